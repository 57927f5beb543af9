// npm run bench -- --documents DIR [DIR…] [--repeat N]
// The console's document list at real size: a page of GET /v1/collections/:c/documents (searched, filtered and paged
// by the store) against the in-memory way it replaces, every document read and then filtered and sliced, in the same
// process over the same index. Example: npm run bench -- --documents ../shared/corpora/scale   (~5,300 documents)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { percentile } from '../src/evaluation/metrics.ts';
import { KnowledgeBase } from '../src/knowledge-base.ts';
import { buildApp } from '../src/server/app.ts';
import type { DocumentRecord } from '../src/store/types.ts';

const argv = process.argv.slice(2).filter((argument) => argument !== '--documents');
const repeatAt = argv.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Number(argv.splice(repeatAt, 2)[1]) : 30;
const folders = argv;
if (folders.length === 0 || !(repeat > 0)) throw new Error('usage: npm run bench -- --documents DIR [DIR…] [--repeat N]');

const ADMIN_KEY = 'kb_admin_bench-documents';
const PAGE = 50;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-documents-'));
try {
  const config = loadConfig({ KB_DATA_DIR: dataDir, KB_LOG_LEVEL: 'warn', KB_API_KEYS: ADMIN_KEY, KB_RATE_LIMIT_ADMIN_PER_MINUTE: '100000000' });
  const knowledgeBase = await KnowledgeBase.open(config, { info: () => {}, warn: () => {} });
  const started = performance.now();
  const summary = await knowledgeBase.ingest(folders);
  const documents = await knowledgeBase.storage.documents.documentCount();
  for (const failure of summary.failed.slice(0, 3)) process.stdout.write(`  not indexed: ${failure.path}: ${failure.reason}\n`);
  process.stdout.write(`ingested ${documents} documents (${summary.added} added, ${summary.failed.length} failed) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const app = await buildApp({ config, knowledgeBase });
  await app.ready();
  // Queries from the index itself: a word of a title in the middle of the list, its format, a deep page.
  const all = await knowledgeBase.storage.documents.listDocuments();
  const middle = all[Math.floor(all.length / 2)]!;
  const word = middle.title.split(/\s+/).find((candidate) => candidate.length >= 5) ?? middle.title.slice(0, 4);
  const deepOffset = Math.max(0, Math.floor(all.length * 0.9) - (Math.floor(all.length * 0.9) % PAGE));
  const cases: { name: string; query: Record<string, string>; matches: (document: DocumentRecord) => boolean; offset: number }[] = [
    { name: 'first page', query: {}, matches: () => true, offset: 0 },
    { name: `page at offset ${deepOffset}`, query: {}, matches: () => true, offset: deepOffset },
    { name: `title contains "${word}"`, query: { q: word }, matches: (document) => `${document.title}\n${document.source}`.toLowerCase().includes(word.toLowerCase()), offset: 0 },
    {
      name: `format ${middle.format}, language ${middle.language}`,
      query: { format: middle.format, language: middle.language },
      matches: (document) => document.format === middle.format && document.language === middle.language,
      offset: 0,
    },
  ];
  const time = async (work: () => Promise<unknown>) => {
    const samples: number[] = [];
    await work(); // warm-up: compiled statements and code paths, not measured
    for (let index = 0; index < repeat; index++) {
      const start = performance.now();
      await work();
      samples.push(performance.now() - start);
    }
    return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
  };
  process.stdout.write(
    `\n| list of ${documents} documents, ${PAGE} a page | by the store (HTTP) p50 · p95 | in memory (read all, filter, slice) p50 · p95 | ratio p50 | matches |\n|---|---|---|---|---|\n`,
  );
  for (const entry of cases) {
    const query = new URLSearchParams({ ...entry.query, limit: String(PAGE), offset: String(entry.offset) });
    let total = 0;
    const store = await time(async () => {
      const response = await app.inject({ method: 'GET', url: `/v1/collections/default/documents?${query}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
      total = (JSON.parse(response.body) as { total: number }).total;
    });
    let inMemoryTotal = 0;
    const memory = await time(async () => {
      const matching = (await knowledgeBase.storage.documents.listDocuments()).filter(entry.matches);
      inMemoryTotal = matching.length;
      return JSON.stringify(matching.slice(entry.offset, entry.offset + PAGE));
    });
    if (total !== inMemoryTotal) throw new Error(`${entry.name}: the store found ${total}, the in-memory filter ${inMemoryTotal}`);
    process.stdout.write(
      `| ${entry.name} | ${store.p50.toFixed(2)} · ${store.p95.toFixed(2)} ms | ${memory.p50.toFixed(2)} · ${memory.p95.toFixed(2)} ms | ${(store.p50 / memory.p50).toFixed(2)}× | ${total} |\n`,
    );
  }
  await app.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
