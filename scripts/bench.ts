// npm run bench [-- FOLDER]        (npm run bench -- --scale DIR… : the service at real size, see bench-scale.ts;
//                                   npm run bench -- --ocr-load : searching while a scan is OCR'd, bench-ocr-load.ts)
// Ingestion throughput and in-process query latency on docs-corpus (and on FOLDER when given, e.g.
// ../shared/corpora/realworld). Each figure comes with a baseline measured in the same process, because absolute
// times on shared machines are noisy: ingestion against parsing alone, hybrid search against BM25 alone.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { readQuestions } from '../src/evaluation/questions.ts';
import { percentile } from '../src/evaluation/metrics.ts';
import { parseFile } from '../src/ingest/parsers/index.ts';
import { KnowledgeBase } from '../src/knowledge-base.ts';
import { buildApp } from '../src/server/app.ts';
import { buildWidget } from '../src/server/script-bundles.ts';
import { termFrequencies, tokenize } from '../src/text/tokenize.ts';
import { READ_EVERYTHING } from '../src/retrieve/read-scope.ts';

const silent = { info: () => {}, warn: (message: string) => process.stderr.write(`warning: ${message}\n`) };

function listFiles(root: string): string[] {
  const found: string[] = [];
  const visit = (entry: string) => {
    const stats = statSync(entry);
    if (stats.isDirectory()) for (const name of readdirSync(entry).sort()) visit(path.join(entry, name));
    else found.push(entry);
  };
  visit(root);
  return found;
}

async function measureParsing(files: string[]): Promise<{ seconds: number; pdfPages: number; pdfSeconds: number }> {
  let pdfPages = 0;
  let pdfSeconds = 0;
  const started = performance.now();
  for (const file of files) {
    const fileStarted = performance.now();
    try {
      const document = await parseFile({ path: file, bytes: readFileSync(file) });
      if (document.format === 'pdf') {
        pdfPages += document.pageCount ?? 0;
        pdfSeconds += (performance.now() - fileStarted) / 1000;
      }
    } catch {
      // unsupported or broken files are part of real folders; ingestion reports them
    }
  }
  return { seconds: (performance.now() - started) / 1000, pdfPages, pdfSeconds };
}

function stats(samples: number[]): string {
  return `p50 ${percentile(samples, 0.5).toFixed(2)} ms, p95 ${percentile(samples, 0.95).toFixed(2)} ms`;
}

async function benchFolder(folder: string, queries: string[] | undefined): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-'));
  const config = loadConfig({ ...process.env, KB_DATA_DIR: dataDir, KB_LLM_BASE_URL: '' });
  const files = listFiles(folder);
  await measureParsing(files.slice(0, 10)); // warm-up: module loading and JIT would otherwise count as parsing
  const parsing = await measureParsing(files);
  const knowledgeBase = await KnowledgeBase.open(config, silent);
  try {
    const summary = await knowledgeBase.ingest([folder]);
    const rerunStarted = performance.now();
    const rerun = await knowledgeBase.ingest([folder]);
    const rerunSeconds = (performance.now() - rerunStarted) / 1000;
    const rssAfterIngest = process.memoryUsage().rss;

    // Queries: the evaluation questions for docs-corpus, else the opening words of chunks spread over the folder.
    const sample = queries ?? (await sampleQueries(knowledgeBase, 60));
    const rounds = 3;
    const searchSamples: number[] = [];
    const keywordSamples: number[] = [];
    const askSamples: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const query of sample) {
        let started = performance.now();
        const terms = termFrequencies(tokenize(query));
        await knowledgeBase.storage.keywords.search(terms, { read: READ_EVERYTHING }, config.retrieval.candidates, { k1: config.retrieval.bm25K1, b: config.retrieval.bm25B });
        keywordSamples.push(performance.now() - started);
        started = performance.now();
        await knowledgeBase.search(query, 10, READ_EVERYTHING);
        searchSamples.push(performance.now() - started);
        started = performance.now();
        await knowledgeBase.ask({ question: query, scope: READ_EVERYTHING });
        askSamples.push(performance.now() - started);
      }
    }
    const report = {
      folder,
      files: files.length,
      documents: summary.added,
      failed: summary.failed.length,
      chunks: summary.chunks,
      ingestSeconds: summary.seconds,
      chunksPerSecond: summary.chunks / summary.seconds,
      parseOnlySeconds: parsing.seconds,
      ingestToParseRatio: summary.seconds / parsing.seconds,
      pdfPages: parsing.pdfPages,
      pdfPagesPerSecond: parsing.pdfSeconds > 0 ? parsing.pdfPages / parsing.pdfSeconds : 0,
      unchangedRerunSeconds: rerunSeconds,
      unchangedRerunFiles: rerun.unchanged,
      rssAfterIngestMiB: rssAfterIngest / 1024 / 1024,
      queries: sample.length * rounds,
      keywordOnly: stats(keywordSamples),
      search: stats(searchSamples),
      searchToKeywordRatio: percentile(searchSamples, 0.5) / percentile(keywordSamples, 0.5),
      askExtractive: stats(askSamples),
    };
    return report;
  } finally {
    await knowledgeBase.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function sampleQueries(knowledgeBase: KnowledgeBase, count: number): Promise<string[]> {
  const statistics = await knowledgeBase.storage.keywords.statistics();
  const step = Math.max(1, Math.floor(statistics.chunkCount / count));
  const ids = Array.from({ length: count }, (_, index) => index * step + 1);
  return [...(await knowledgeBase.storage.documents.getChunks(ids)).values()].map((chunk) => Array.from(chunk.text.replace(/\s+/g, ' ')).slice(0, 40).join(''));
}

function print(report: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(report).map((key) => key.length));
  for (const [key, value] of Object.entries(report)) process.stdout.write(`  ${key.padEnd(width)}  ${typeof value === 'number' ? (Number.isInteger(value) ? value : value.toFixed(3)) : value}\n`);
}

/**
 * Time to the first streamed token of /v1/ask over real HTTP (extractive answerer), p50 over 20 asks, against the
 * full JSON answer in the same process; and the widget's size.
 */
async function benchHttp(questions: string[]): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-http-'));
  const config = loadConfig({ ...process.env, KB_DATA_DIR: dataDir, KB_LLM_BASE_URL: '', KB_LOG_LEVEL: 'silent', KB_RATE_LIMIT_PER_MINUTE: '100000', KB_RATE_LIMIT_PER_IP_PER_MINUTE: '100000' });
  const knowledgeBase = await KnowledgeBase.open(config, silent);
  await knowledgeBase.ingest(['docs-corpus']);
  const app = await buildApp({ config, knowledgeBase });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const firstToken: number[] = [];
    const complete: number[] = [];
    const sample = questions.slice(0, 20);
    for (const question of [sample[0]!, ...sample]) {
      let started = performance.now();
      const response = await fetch(`${base}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ question }) });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let first: number | undefined;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (first === undefined && text.includes('event: delta')) first = performance.now() - started;
      }
      started = performance.now();
      await (await fetch(`${base}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })).json();
      const whole = performance.now() - started;
      firstToken.push(first ?? Number.NaN);
      complete.push(whole);
    }
    // The first round warmed up the JIT and is not counted.
    firstToken.shift();
    complete.shift();
    const bundle = await buildWidget();
    return {
      asks: firstToken.length,
      timeToFirstToken: stats(firstToken),
      jsonAnswer: stats(complete),
      firstTokenToJsonRatio: percentile(firstToken, 0.5) / percentile(complete, 0.5),
      widgetBytes: bundle.code.length,
      widgetGzipBytes: bundle.gzipBytes,
    };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--ocr-load')) {
  await import('./bench-ocr-load.ts');
  process.exit(0);
}
if (process.argv.includes('--documents')) {
  await import('./bench-documents.ts');
  process.exit(0);
}
if (process.argv.includes('--scale')) {
  await import('./bench-scale.ts');
  process.exit(0);
}
const questions = readQuestions('docs-corpus/eval/questions.jsonl').map((item) => item.question);
process.stdout.write('docs-corpus (built-in embedder, extractive answers)\n');
print(await benchFolder('docs-corpus', questions));
process.stdout.write('\nHTTP streaming on docs-corpus and the widget\n');
print(await benchHttp(questions));
const extra = process.argv[2];
if (extra) {
  process.stdout.write(`\n${extra}\n`);
  print(await benchFolder(extra, undefined));
}
