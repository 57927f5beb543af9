import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAiCompatibleModel } from '../../src/answer/openai-compatible.ts';
import { refusalMessages } from '../../src/answer/messages.ts';
import { NO_ANSWER_TOKEN } from '../../src/answer/prompt.ts';
import { evaluateQuestions, readQuestions } from '../../src/evaluation/questions.ts';
import type { KnowledgeBase } from '../../src/knowledge-base.ts';
import { FakeOpenAi } from '../helpers/fake-openai.ts';
import { corpusKnowledgeBase } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';
import { writeTinyModel, writeTinyReranker } from '../helpers/tiny-model.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';

describe('retrieval and extractive answers on docs-corpus', () => {
  let knowledgeBase: KnowledgeBase;
  before(async () => {
    knowledgeBase = await corpusKnowledgeBase();
  });
  after(() => knowledgeBase.close());

  it('answers a fault-code question from the PDF table, citing document, page and heading', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'What does fault code E-104 mean on the HL-400 lathe?' });
    assert.equal(result.answerable, true);
    assert.match(result.answer, /encoder/i);
    const [citation] = result.citations;
    assert.ok(citation && result.answer.includes(`[${citation.n}]`), result.answer);
    assert.equal(citation.source, 'docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf');
    assert.equal(citation.page, 2);
    assert.deepEqual(citation.headings, ['3. Fault codes']);
    assert.match(citation.documentId, /^[0-9a-f]{16}$/);
  });

  it('answers in Chinese from a Chinese PDF', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '注塑机报警 M-05 是什么意思？' });
    assert.equal(result.language, 'zh');
    assert.match(result.answer, /油温过高/);
    assert.equal(result.citations[0]?.page, 2);
  });

  it('refuses, in the question language, what the knowledge base does not contain', async () => {
    for (const [question, language] of [
      ['How is the annual bonus for production staff calculated?', 'en'],
      ['食堂几点开饭？', 'zh'],
    ] as const) {
      const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question });
      assert.equal(result.answerable, false, question);
      assert.equal(result.answer, refusalMessages[language]);
      assert.deepEqual(result.citations, []);
      assert.equal(result.answeredBy, 'none');
    }
  });

  it('finds the gold document in the top 5 for at least 90% of the answerable evaluation questions', async () => {
    const questions = readQuestions('docs-corpus/eval/questions.jsonl');
    const report = await evaluateQuestions(knowledgeBase, questions);
    assert.ok(report['hit@5'] >= 0.9, `hit@5 ${report['hit@5']}`);
    assert.ok(report.refusal_recall >= 0.8, `refusal recall ${report.refusal_recall}`);
    assert.equal(report.multi_turn_passed.split('/')[0], report.multi_turn_passed.split('/')[1], `multi-turn ${report.multi_turn_passed}`);
  });

  it('applies filters on language, source prefix and document', async () => {
    const chinese = await knowledgeBase.search('VPN', 10, READ_EVERYTHING, { language: 'zh' });
    assert.ok(chinese.chunks.length > 0 && chinese.chunks.every((chunk) => chunk.language === 'zh'));
    const hr = await knowledgeBase.search('leave', 10, READ_EVERYTHING, { sourcePrefix: 'docs-corpus/hr/' });
    assert.ok(hr.chunks.length > 0 && hr.chunks.every((chunk) => chunk.source.startsWith('docs-corpus/hr/')));
    const documentId = hr.chunks[0]!.documentKey;
    const one = await knowledgeBase.search('leave', 10, READ_EVERYTHING, { documentIds: [documentId] });
    assert.ok(one.chunks.every((chunk) => chunk.documentKey === documentId));
  });

  it('condenses a follow-up with the previous question when no LLM is configured', async () => {
    const history = [
      { role: 'user' as const, content: '注塑机报警 M-05 是什么意思？' },
      { role: 'assistant' as const, content: 'M-05 表示油温过高。[1]' },
    ];
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '那 M-12 呢？', history });
    assert.equal(result.retrieval.query, '注塑机报警 M-12 是什么意思？');
    assert.match(result.answer, /模具保护/);
  });

  // Regression: without an LLM every short question was glued to the previous one, so the widget answered the
  // previous question ("How do I fix VPN error 809?" after a fault-code question got the fault-code row).
  it('answers a new topic after any question as a new question, in either language', async () => {
    const conversation = [
      { question: 'What does fault code E-104 mean on the HL-400 lathe?', expected: /Spindle encoder signal lost/ },
      { question: 'How do I fix VPN error 809?', expected: /TCP/ },
      { question: '员工每年有几天带薪年假？', expected: /15 个工作日/ },
      { question: 'What is the dress code?', expected: /does not contain/ },
      { question: '注塑机报警 M-05 是什么意思？', expected: /油温过高/ },
      { question: 'How do I fix VPN error 809?', expected: /TCP/ },
    ];
    const history: { role: 'user' | 'assistant'; content: string }[] = [];
    for (const { question, expected } of conversation) {
      const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question, history });
      assert.match(result.answer, expected, `${question} → ${result.answer}`);
      assert.equal(result.retrieval.query, question, 'a new topic is retrieved as asked');
      history.push({ role: 'user', content: question }, { role: 'assistant', content: result.answer });
    }
  });

  it('streams the same answer it returns', async () => {
    let streamed = '';
    let done: string | undefined;
    for await (const part of knowledgeBase.askStream({ scope: READ_EVERYTHING, question: 'How long can a VPN session stay connected?' })) {
      if (part.type === 'delta') streamed += part.text;
      if (part.type === 'done') done = part.result.answer;
    }
    assert.equal(streamed, done);
  });
});

describe('answers from an OpenAI-compatible LLM', () => {
  const server = new FakeOpenAi();
  let knowledgeBase: KnowledgeBase;
  before(async () => {
    await server.start();
    knowledgeBase = await corpusKnowledgeBase({ model: new OpenAiCompatibleModel({ baseUrl: server.baseUrl, model: 'fake', timeoutMs: 1500 }) });
  });
  after(async () => {
    knowledgeBase.close();
    await server.stop();
  });

  it('sends numbered context, keeps valid citations and drops and reports invalid ones', async () => {
    server.enqueue({ kind: 'answer', text: 'E-104 means the spindle encoder signal is lost [1]. See also [9].', pieces: 7 });
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'What does fault code E-104 mean?' });
    assert.equal(result.answeredBy, 'llm');
    assert.equal(result.answer, 'E-104 means the spindle encoder signal is lost [1]. See also.');
    assert.deepEqual(result.droppedCitations, [9]);
    assert.deepEqual(
      result.citations.map((citation) => citation.n),
      [1],
    );
    const prompt = server.requests.at(-1)!.body.messages.at(-1)!.content;
    assert.match(prompt, /^Context passages:\n\n\[1\] /);
    assert.match(prompt, /Question: What does fault code E-104 mean\?$/);
  });

  it('uses a Chinese system prompt for a Chinese question', async () => {
    server.enqueue({ kind: 'answer', text: 'M-05 表示油温过高 [1]。' });
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '注塑机报警 M-05 是什么意思？' });
    assert.equal(result.answer, 'M-05 表示油温过高 [1]。');
    assert.match(server.requests.at(-1)!.body.messages[0]!.content, /简体中文/);
  });

  it('turns the model saying NO_ANSWER into a structured refusal', async () => {
    server.enqueue({ kind: 'answer', text: NO_ANSWER_TOKEN });
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'How often are digital calipers calibrated?' });
    assert.equal(result.answerable, false);
    assert.equal(result.answer, refusalMessages.en);
  });

  it('retries once after a retryable error', async () => {
    server.enqueue({ kind: 'status', status: 503 }, { kind: 'answer', text: 'Every 6 months [1].' });
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'How often are digital calipers calibrated?' });
    assert.equal(result.answeredBy, 'llm');
    assert.equal(result.fallback, undefined);
  });

  it('falls back to the extractive answer when the model hangs or keeps failing, and says so', async () => {
    server.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const hung = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'How often are digital calipers calibrated?' });
    assert.equal(hung.answeredBy, 'extractive');
    assert.match(hung.fallback?.reason ?? '', /did not answer within 1500 ms/);
    assert.match(hung.answer, /language model was unavailable/);
    assert.match(hung.answer, /6 months/);
    server.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const failed = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '注塑机报警 M-05 是什么意思？' });
    assert.equal(failed.answeredBy, 'extractive');
    assert.match(failed.answer, /语言模型暂不可用/);
  });

  it('closes a stream that broke midway honestly, with the extractive answer after a note', async () => {
    // The condensing call is skipped without history; the first request is the answer itself.
    server.enqueue({ kind: 'malformed-stream', after: 'E-104 means' });
    const parts: string[] = [];
    let final;
    for await (const part of knowledgeBase.askStream({ scope: READ_EVERYTHING, question: 'What does fault code E-104 mean?' })) {
      if (part.type === 'delta') parts.push(part.text);
      if (part.type === 'done') final = part.result;
    }
    assert.ok(final);
    assert.equal(final.answeredBy, 'extractive');
    assert.match(final.fallback?.reason ?? '', /malformed/);
    assert.equal(parts.join(''), final.answer);
  });

  it('condenses a follow-up with the LLM', async () => {
    server.enqueue({ kind: 'answer', text: 'What does fault code E-207 mean on the HL-400 lathe?' }, { kind: 'answer', text: 'Hydraulic pressure low [1].' });
    const result = await knowledgeBase.ask({
      scope: READ_EVERYTHING,
      question: 'And E-207?',
      history: [
        { role: 'user', content: 'What does fault code E-104 mean on the HL-400 lathe?' },
        { role: 'assistant', content: 'Spindle encoder signal lost. [1]' },
      ],
    });
    assert.equal(result.retrieval.query, 'What does fault code E-207 mean on the HL-400 lathe?');
    assert.equal(result.citations[0]?.source, 'docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf');
  });

  // The condensing prompt asks the model to leave a new topic as it is; a model that does not (it glues the previous
  // question on, as the deterministic condenser once did) must not make the service answer the previous question.
  it('keeps a new topic as asked when the model merges it with the previous question', async () => {
    const history = [
      { role: 'user' as const, content: 'What does fault code E-104 mean on the HL-400 lathe?' },
      { role: 'assistant' as const, content: 'Spindle encoder signal lost. [1]' },
    ];
    for (const question of ['How do I fix VPN error 809?', '员工每年有几天带薪年假？']) {
      server.enqueue({ kind: 'answer', text: `What does fault code E-104 mean on the HL-400 lathe? ${question}` }, { kind: 'answer', text: 'From the context [1].' });
      const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question, history });
      assert.equal(result.retrieval.query, question);
      assert.ok(!result.retrieval.chunks.slice(0, 3).some((chunk) => chunk.source.includes('cnc-lathe')), result.retrieval.chunks.map((chunk) => chunk.source).join(', '));
    }
  });
});

describe('dense retrieval in fusion', () => {
  it('fuses the vector list when it has weight', async () => {
    const knowledgeBase = await corpusKnowledgeBase({ environment: { KB_FUSION_DENSE_WEIGHT: '1' } });
    try {
      // Misspelled words match no index term: every result comes from the vectors (character trigrams).
      const misspelled = await knowledgeBase.search('spindel overheeting', 5, READ_EVERYTHING);
      assert.equal(misspelled.chunks.length, 5);
      assert.ok(misspelled.chunks.every((chunk) => chunk.denseRank !== undefined && chunk.keywordRank === undefined));
      const both = await knowledgeBase.search('spindle motor overheat', 10, READ_EVERYTHING);
      assert.ok(both.chunks.some((chunk) => chunk.denseRank !== undefined && chunk.keywordRank !== undefined));
    } finally {
      knowledgeBase.close();
    }
  });

  it('gives a transformers.js model weight in fusion by default, and the built-in embedder none', async () => {
    const modelsDir = temporaryDirectory();
    writeTinyModel(modelsDir, 'test/tiny-bert');
    const withModel = await corpusKnowledgeBase({ environment: { KB_MODELS_DIR: modelsDir, KB_EMBEDDING_MODEL: 'test/tiny-bert' } });
    const builtin = await corpusKnowledgeBase();
    try {
      assert.match(withModel.embedder.id, /^transformers:test\/tiny-bert:/);
      const dense = await withModel.search('vpn password reset', 5, READ_EVERYTHING);
      assert.ok(dense.chunks.some((chunk) => chunk.denseRank !== undefined));
      const keywordOnly = await builtin.search('vpn password reset', 5, READ_EVERYTHING);
      assert.ok(keywordOnly.chunks.every((chunk) => chunk.denseRank === undefined));
    } finally {
      withModel.close();
      builtin.close();
    }
  });
});

describe('reranking and diversity', () => {
  it('reranks the fused candidates with an installed cross-encoder', async () => {
    const modelsDir = temporaryDirectory();
    writeTinyReranker(modelsDir, 'test/tiny-reranker');
    const knowledgeBase = await corpusKnowledgeBase({ environment: { KB_MODELS_DIR: modelsDir, KB_RERANKER_MODEL: 'test/tiny-reranker' } });
    try {
      assert.equal(knowledgeBase.reranker?.id, 'transformers:test/tiny-reranker');
      // The tiny reranker prefers passages that say "VPN": the password question's VPN chunks rise to the top.
      const result = await knowledgeBase.search('password reset', 5, READ_EVERYTHING);
      assert.ok(result.chunks.every((chunk) => chunk.rerankScore !== undefined));
      const scores = result.chunks.map((chunk) => chunk.rerankScore!);
      assert.deepEqual(
        scores,
        [...scores].sort((a, b) => b - a),
      );
      assert.match(result.chunks[0]!.text + result.chunks[0]!.title, /VPN/);
    } finally {
      knowledgeBase.close();
    }
  });

  // The same passage in a copy of a document (not byte-identical, so both are indexed) used to fill the context
  // twice; MMR could push it down only when turned on. The same-passage collapse does it by default.
  it('keeps a copied passage from filling the context: one result, the copy listed as its alternative, MMR or not', async () => {
    const root = temporaryDirectory();
    const { mkdirSync, writeFileSync, readFileSync } = await import('node:fs');
    mkdirSync(`${root}/docs`);
    const text = readFileSync('docs-corpus/it/vpn-faq.md', 'utf8');
    writeFileSync(`${root}/docs/vpn-faq.md`, text);
    writeFileSync(`${root}/docs/vpn-faq-copy.md`, `${text}\n\nMirrored from the IT wiki.\n`);
    writeFileSync(`${root}/docs/password.md`, readFileSync('docs-corpus/it/password-policy.md', 'utf8'));
    const open = async (lambda: string) => {
      const { KnowledgeBase } = await import('../../src/knowledge-base.ts');
      const { testConfig } = await import('../helpers/knowledge-base.ts');
      const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: `${root}/data-${lambda}`, KB_MMR_LAMBDA: lambda }), { info: () => {}, warn: () => {} });
      await knowledgeBase.ingest([`${root}/docs`], { baseDir: root });
      return knowledgeBase;
    };
    for (const lambda of ['1', '0.6']) {
      const knowledgeBase = await open(lambda);
      try {
        const top = (await knowledgeBase.search('VPN error 809 password', 3, READ_EVERYTHING)).chunks;
        assert.equal(top.length, 3, 'a collapsed copy leaves no hole in the results');
        const passages = top.filter((chunk) => chunk.text.includes('Error 809 means'));
        assert.equal(passages.length, 1, `λ ${lambda}: the passage appears once`);
        assert.deepEqual(
          passages[0]!.alternatives?.map((other) => other.source),
          [passages[0]!.source === 'docs/vpn-faq.md' ? 'docs/vpn-faq-copy.md' : 'docs/vpn-faq.md'],
        );
      } finally {
        knowledgeBase.close();
      }
    }
  });
});
