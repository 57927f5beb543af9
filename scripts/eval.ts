// Quality evaluation, three modes, each indexing into a temporary data directory with the current settings:
//   npm run eval -- --questions docs-corpus/eval/questions.jsonl [--corpus docs-corpus] [--json] [--verbose]
//   npm run eval -- --conversations docs-corpus/eval/conversations.jsonl [--corpus docs-corpus] [--json] [--verbose]
//   npm run eval -- --dataset ../shared/eval/cranfield [--split test] [--json] [--trace QUERY_ID]
//   npm run eval -- --qa ../shared/eval/clapnq/qa_dev.jsonl --corpus ../shared/eval/clapnq [--limit N] [--json]
// With --json, stdout carries one JSON object and nothing else (progress and logs go to stderr).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig, loadDotEnv } from '../src/config.ts';
import { evaluateRetrieval, readBeirCorpus, readBeirDataset, traceQuery } from '../src/evaluation/beir.ts';
import { evaluateQa, readQa, thresholdSweep } from '../src/evaluation/qa.ts';
import { evaluateQuestions, readQuestions } from '../src/evaluation/questions.ts';
import { evaluateConversations, readConversations } from '../src/evaluation/conversations.ts';
import { KnowledgeBase } from '../src/knowledge-base.ts';

const usage = `usage:
  npm run eval -- --questions FILE [--corpus DIR] [--json] [--verbose]
  npm run eval -- --conversations FILE [--corpus DIR] [--json] [--verbose: every wrong turn]
  npm run eval -- --dataset DIR [--split NAME] [--json] [--trace QUERY_ID]
  npm run eval -- --qa FILE --corpus DIR [--limit N] [--json] [--verbose: with a threshold sweep]
  npm run eval -- --ocr [--pages N] [--engine ours|gutenye] [--font-size PX] [--skew DEGREES] [--quality JPEG_QUALITY|png] [--json]
`;

const { values } = parseArgs({
  options: {
    questions: { type: 'string' },
    conversations: { type: 'string' },
    dataset: { type: 'string' },
    qa: { type: 'string' },
    corpus: { type: 'string' },
    split: { type: 'string' },
    trace: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    ocr: { type: 'boolean' },
    pages: { type: 'string' },
    engine: { type: 'string' },
    'font-size': { type: 'string' },
    skew: { type: 'string' },
    quality: { type: 'string' },
  },
});

function progressBar(label: string, total: number) {
  if (!process.stderr.isTTY) return { update: (_: number) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { update: (value: number) => bar.update(value), stop: () => bar.stop() };
}

function printTable(rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(rows.map(([label, value]) => `${label.padEnd(width)}  ${typeof value === 'number' ? String(value) : value}`).join('\n') + '\n');
}

async function withKnowledgeBase<T>(run: (knowledgeBase: KnowledgeBase) => Promise<T>): Promise<T> {
  loadDotEnv();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-eval-'));
  const logger = { info: (message: string) => process.stderr.write(`${message}\n`), warn: (message: string) => process.stderr.write(`warning: ${message}\n`) };
  // Recall@100 needs at least 100 candidates from each retriever; 300 unless set explicitly.
  const config = loadConfig({ KB_CANDIDATES: '300', ...process.env, KB_DATA_DIR: dataDir });
  const knowledgeBase = await KnowledgeBase.open(config, logger);
  try {
    return await run(knowledgeBase);
  } finally {
    await knowledgeBase.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function indexCorpus(knowledgeBase: KnowledgeBase, directory: string): Promise<number> {
  const documents = readBeirCorpus(directory);
  const bar = progressBar('indexing', documents.length);
  const summary = await knowledgeBase.ingestDocuments(documents, { onProgress: ({ done }) => bar.update(done) });
  bar.stop();
  process.stderr.write(`indexed ${summary.added} documents, ${summary.chunks} chunks in ${summary.seconds.toFixed(1)} s\n`);
  return summary.seconds;
}

async function runDataset(directory: string): Promise<void> {
  const dataset = readBeirDataset(directory, values.split);
  await withKnowledgeBase(async (knowledgeBase) => {
    const indexSeconds = await indexCorpus(knowledgeBase, directory);
    if (values.trace) {
      const trace = await traceQuery(knowledgeBase, dataset, values.trace);
      process.stdout.write(`query ${values.trace}: ${trace.query}\n`);
      process.stdout.write('document            relevance  bm25  dense  fused\n');
      for (const row of trace.rows) {
        const show = (rank: number | undefined) => String(rank ?? '-').padStart(5);
        process.stdout.write(`${row.document.padEnd(20)}${String(row.relevance).padStart(9)} ${show(row.keywordRank)} ${show(row.denseRank)}  ${show(row.fusedRank)}\n`);
      }
      return;
    }
    const bar = progressBar('queries', dataset.qrels.size);
    const report = await evaluateRetrieval(knowledgeBase, dataset, indexSeconds, (done) => bar.update(done));
    bar.stop();
    if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
    else printTable([[`dataset (${dataset.split}, ${dataset.qrels.size} queries, ${dataset.documents.length} documents)`, directory], ...Object.entries(report)]);
  });
}

async function runQa(file: string, corpus: string): Promise<void> {
  const items = readQa(file, values.limit ? Number(values.limit) : undefined);
  await withKnowledgeBase(async (knowledgeBase) => {
    await indexCorpus(knowledgeBase, corpus);
    const bar = progressBar('questions', items.length);
    const { report, outcomes } = await evaluateQa(knowledgeBase, items, (done) => bar.update(done));
    bar.stop();
    if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
    else printTable(Object.entries(report));
    if (values.verbose && !values.json) {
      // What other answer thresholds (KB_ANSWER_THRESHOLD) would give, from the same run.
      const sweep = thresholdSweep(outcomes, [0.3, 0.4, 0.5, 0.6, 0.7]);
      printTable(sweep.map((point) => [`threshold ${point.threshold}: answered / unanswerable refused`, `${point.answered.toFixed(3)} / ${point.refused.toFixed(3)}`]));
    }
  });
}

/**
 * Indexes a corpus, runs an evaluation over items with a progress bar, and prints its report as JSON (the figures,
 * or everything with --verbose) when asked; otherwise hands the report to `print`.
 */
async function evaluateOverCorpus<Item, Report extends { outcomes: unknown[] }>(
  corpus: string,
  label: string,
  items: readonly Item[],
  evaluate: (knowledgeBase: KnowledgeBase, items: readonly Item[], onProgress: (done: number) => void) => Promise<Report>,
  print: (report: Report) => void,
): Promise<void> {
  await withKnowledgeBase(async (knowledgeBase) => {
    const summary = await knowledgeBase.ingest([corpus]);
    process.stderr.write(`indexed ${summary.added} documents, ${summary.chunks} chunks in ${summary.seconds.toFixed(1)} s\n`);
    const bar = progressBar(label, items.length);
    const report = await evaluate(knowledgeBase, items, (done) => bar.update(done));
    bar.stop();
    const { outcomes: _outcomes, ...figures } = report;
    if (values.json) process.stdout.write(JSON.stringify(values.verbose ? report : figures) + '\n');
    else print(report);
  });
}

async function runQuestions(file: string, corpus: string): Promise<void> {
  await evaluateOverCorpus(corpus, 'questions', readQuestions(file), evaluateQuestions, (report) => {
    const { outcomes } = report;
    printTable([
      ['questions (answerable / unanswerable)', `${report.questions} (${report.answerable} / ${report.unanswerable})`],
      ['hit@1 (gold document ranked first)', report['hit@1'].toFixed(3)],
      ['hit@5 (gold document in the top 5)', report['hit@5'].toFixed(3)],
      ['page hit@5 (gold document and page)', report.page_hit.toFixed(3)],
      ['answered (answerable not refused)', report.answered.toFixed(3)],
      ['answer containment', report.answer_containment.toFixed(3)],
      ['answer correct with the right source cited', report.answer_correct_with_source.toFixed(3)],
      ['answers clean (no markup, entity, cut URL, page header)', report.clean.toFixed(3)],
      ['refusal precision', report.refusal_precision.toFixed(3)],
      ['refusal recall', report.refusal_recall.toFixed(3)],
      ['multi-turn items passed', report.multi_turn_passed],
      ['en: hit@5 / containment / refusal recall', `${report.by_language['en']!['hit@5']} / ${report.by_language['en']!.answer_containment} / ${report.by_language['en']!.refusal_recall}`],
      ['zh: hit@5 / containment / refusal recall', `${report.by_language['zh']!['hit@5']} / ${report.by_language['zh']!.answer_containment} / ${report.by_language['zh']!.refusal_recall}`],
    ]);
    if (values.verbose) {
      for (const outcome of outcomes) {
        const wrong = outcome.answerable ? !outcome.hitAt5 || !outcome.contains || outcome.refused : !outcome.refused;
        if (wrong || !outcome.clean)
          process.stdout.write(
            `${outcome.id} ${outcome.answerable ? 'A' : 'U'} hit5=${outcome.hitAt5} contains=${outcome.contains} cited=${outcome.sourceCited} clean=${outcome.clean} refused=${outcome.refused} conf=${outcome.confidence.toFixed(2)} | ${outcome.answer.replace(/\n/g, ' ').slice(0, 160)}\n`,
          );
      }
    }
  });
}

async function runConversations(file: string, corpus: string): Promise<void> {
  await evaluateOverCorpus(corpus, 'conversations', readConversations(file), evaluateConversations, (report) => {
    const { outcomes } = report;
    printTable([
      ['conversations / turns', `${report.conversations} / ${report.turns}`],
      ['turn accuracy', report.turn_accuracy.toFixed(3)],
      ['topic-switch turns right', report.topic_switch_turns],
      ['follow-up turns right', report.follow_up_turns],
      ['small-talk turns right', report.smalltalk_turns],
      ['small-talk turns cited (must be 0)', report.smalltalk_cited],
      ['refusal turns right', report.refusal_turns],
    ]);
    if (values.verbose) {
      for (const outcome of outcomes.filter((item) => !item.right)) {
        process.stdout.write(`${outcome.conversation}#${outcome.turn} expect=${outcome.expect} kind=${outcome.kind} | ${outcome.question} | ${outcome.answer.replace(/\n/g, ' ').slice(0, 140)}\n`);
      }
    }
  });
}

/**
 * OCR on generated scans of our own documents (zh and en): character and word accuracy, pages per second on one
 * thread. --engine gutenye reads the same pages with @gutenye/ocr-node's own pipeline, for comparison.
 */
async function runOcr(): Promise<void> {
  const { evaluateOcr } = await import('../src/evaluation/ocr.ts');
  const { readPageImage, pageTextOf, closeOcr } = await import('../src/ingest/ocr/ocr.ts');
  const pages = Number(values.pages ?? 8);
  const scan = {
    ...(values['font-size'] ? { fontSize: Number(values['font-size']) } : {}),
    ...(values.skew ? { skew: Number(values.skew) } : {}),
    ...(values.quality ? { quality: values.quality === 'png' ? ('png' as const) : Number(values.quality) } : {}),
  };
  let read: (image: Buffer) => Promise<string>;
  if (values.engine === 'gutenye') {
    const { default: Ocr } = await import('@gutenye/ocr-node');
    const ocr = await Ocr.create({ onnxOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
    read = async (image) => ((await ocr.detect(image)) as { text: string }[]).map((line) => line.text).join('\n');
  } else {
    read = async (image) => pageTextOf(await readPageImage(image, { file: 'scan', deadline: performance.now() + 600_000 }));
    await read(
      await (
        await import('sharp')
      )
        .default({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } })
        .png()
        .toBuffer(),
    ); // models loaded before timing
  }
  const report: Record<string, string | number> = { engine: values.engine ?? 'ours', scan: JSON.stringify(scan) };
  for (const language of ['zh', 'en'] as const) {
    const bar = progressBar(`ocr ${language}`, pages);
    const outcomes = await evaluateOcr(language, read, { pages, scan, onPage: (done) => bar.update(done) });
    bar.stop();
    const characters = outcomes.reduce((sum, outcome) => sum + outcome.characters, 0);
    const seconds = outcomes.reduce((sum, outcome) => sum + outcome.seconds, 0);
    report[`${language} pages`] = outcomes.length;
    report[`${language} characters`] = characters;
    report[`${language} character accuracy`] = Number((outcomes.reduce((sum, outcome) => sum + outcome.characterAccuracy * outcome.characters, 0) / characters).toFixed(4));
    if (language === 'en') report[`${language} word accuracy`] = Number((outcomes.reduce((sum, outcome) => sum + outcome.wordAccuracy * outcome.characters, 0) / characters).toFixed(4));
    report[`${language} pages/s`] = Number((outcomes.length / seconds).toFixed(3));
    report[`${language} seconds/page`] = Number((seconds / outcomes.length).toFixed(2));
    if (values.verbose)
      for (const outcome of outcomes)
        process.stderr.write(`${language} page ${outcome.page}: characters ${outcome.characterAccuracy.toFixed(4)} words ${outcome.wordAccuracy.toFixed(4)} ${outcome.seconds.toFixed(1)} s\n`);
  }
  closeOcr();
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else printTable(Object.entries(report));
}

if (values.ocr) await runOcr();
else if (values.dataset) await runDataset(values.dataset);
else if (values.qa && values.corpus) await runQa(values.qa, values.corpus);
else if (values.questions) await runQuestions(values.questions, values.corpus ?? 'docs-corpus');
else if (values.conversations) await runConversations(values.conversations, values.corpus ?? 'docs-corpus');
else {
  process.stderr.write(usage);
  process.exitCode = 1;
}
