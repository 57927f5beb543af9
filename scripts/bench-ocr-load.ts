// npm run bench -- --ocr-load [--seconds N] [--pages N] [--connections 1,4]
// Searching while a scan is read: `kb serve` over docs-corpus in a child process, /v1/search driven by autocannon with
// the evaluation questions, idle and then while an upload job OCRs a generated scanned PDF (20 pages by default, our
// own documents in Chinese and English), each connection count in turn. The figure is p99 under OCR against idle
// p99, measured in the same run; the OCR pages read during each window are counted, so a window that ended after the
// scan was read is told apart. Also: the scan's total OCR time (seconds per page with the server answering).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { layoutPages, scannedPage, scannedPdf } from '../src/evaluation/synthetic-scans.ts';
import { sourceParagraphs } from '../src/evaluation/ocr.ts';
import { readQuestions } from '../src/evaluation/questions.ts';
import { KeyStore } from '../src/keys/key-store.ts';
import type { Job } from '../src/jobs/types.ts';
import { freePort } from '../tests/helpers/free-port.ts';

const { values } = parseArgs({ options: { 'ocr-load': { type: 'boolean' }, seconds: { type: 'string' }, pages: { type: 'string' }, connections: { type: 'string' } }, allowPositionals: true });
const seconds = Number(values.seconds ?? 10);
const pageCount = Number(values.pages ?? 20);
const connectionCounts = (values.connections ?? '1,4').split(',').map(Number);

function cli(args: string[], environment: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', resolve));
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-ocr-'));
const environment = {
  KB_DATA_DIR: dataDir,
  KB_LLM_BASE_URL: '',
  KB_LOG_LEVEL: 'warn',
  KB_RATE_LIMIT_PER_MINUTE: '100000000',
  KB_RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
  KB_RATE_LIMIT_ADMIN_PER_MINUTE: '100000000',
};
const ingest = cli(['ingest', 'docs-corpus', '--json'], environment);
ingest.stdout!.resume();
ingest.stderr!.resume();
if ((await exited(ingest)) !== 0) throw new Error('kb ingest docs-corpus failed');
const keys = new KeyStore(dataDir);
const admin = keys.create({ scope: 'admin' }).key;

process.stderr.write(`making a ${pageCount}-page scanned PDF…\n`);
const paragraphs = [...(await sourceParagraphs('zh')), ...(await sourceParagraphs('en'))];
let pages = layoutPages(paragraphs);
while (pages.length < pageCount) pages = [...pages, ...pages];
const scan = await scannedPdf(await Promise.all(pages.slice(0, pageCount).map((lines) => scannedPage(lines))));

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = cli(['serve', '--port', String(port)], environment);
server.stdout!.resume();
let serverErrors = '';
server.stderr!.on('data', (part: Buffer) => (serverErrors = (serverErrors + part.toString('utf8')).slice(-4000)));
for (;;) {
  if (server.exitCode !== null) throw new Error(`kb serve exited with ${server.exitCode}: ${serverErrors}`);
  try {
    if ((await fetch(`${base}/readyz`)).status === 200) break;
  } catch {
    // not listening yet
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const questions = readQuestions('docs-corpus/eval/questions.jsonl').map((item) => item.question);
async function searchLoad(connections: number): Promise<{ requestsPerSecond: number; p50: number; p99: number; errors: number }> {
  let counter = 0;
  const result = await autocannon({
    url: `${base}/v1/search`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        setupRequest: (request: autocannon.Request) => ({ ...request, body: JSON.stringify({ query: questions[counter++ % questions.length] }) }),
      },
    ],
  });
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx };
}

async function job(id: string): Promise<Job> {
  return (await (await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as Job;
}

const rows: string[] = [];
try {
  await searchLoad(2); // warm-up: JIT, query threads, caches
  for (const connections of connectionCounts) {
    const idle = await searchLoad(connections);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(scan)]), `scan-${connections}.pdf`);
    const uploaded = await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    if (uploaded.status !== 202) throw new Error(`upload refused: ${uploaded.status} ${await uploaded.text()}`);
    const { job: submitted } = (await uploaded.json()) as { job: Job };
    const jobStarted = performance.now();
    // The window starts once OCR does (the job is queued, then parses the PDF's text layer first).
    while (!(await job(submitted.id)).progress.ocr) await new Promise((resolve) => setTimeout(resolve, 100));
    const before = (await job(submitted.id)).progress.ocr?.pages ?? 0;
    const loaded = await searchLoad(connections);
    const during = await job(submitted.id);
    const pagesDuring = (during.progress.ocr?.pages ?? pageCount) - before;
    let finished = during;
    while (finished.state === 'queued' || finished.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      finished = await job(submitted.id);
    }
    const jobSeconds = (performance.now() - jobStarted) / 1000;
    if (finished.state !== 'succeeded' || finished.files[0]?.status !== 'added') throw new Error(`the scan job ended ${finished.state}: ${JSON.stringify(finished.files)}`);
    rows.push(
      `| ${connections} | ${idle.requestsPerSecond.toFixed(0)} · ${idle.p50} / ${idle.p99} ms | ${loaded.requestsPerSecond.toFixed(0)} · ${loaded.p50} / ${loaded.p99} ms | ` +
        `**${(loaded.p99 / idle.p99).toFixed(2)}×** | ${pagesDuring} | ${jobSeconds.toFixed(0)} s (${(jobSeconds / pageCount).toFixed(1)} s/page) | ${idle.errors + loaded.errors} |`,
    );
    // The next round's upload must be new content, not a duplicate of this one: it is deleted.
    const listed = (await (await fetch(`${base}/v1/collections/default/documents?limit=500`, { headers: { authorization: `Bearer ${admin}` } })).json()) as {
      documents: { id: string; source: string }[];
    };
    const uploadedDocument = listed.documents.find((document) => document.source.endsWith(`scan-${connections}.pdf`));
    if (uploadedDocument) await fetch(`${base}/v1/collections/default/documents/${encodeURIComponent(uploadedDocument.id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
  }
} finally {
  server.kill('SIGTERM');
  await exited(server);
  rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`\n/v1/search on docs-corpus while a ${pageCount}-page scanned PDF is OCR'd (${seconds} s windows, ${os.cpus().length} cores)\n\n`);
process.stdout.write('| connections | idle: req/s · p50 / p99 | during OCR: req/s · p50 / p99 | p99 ratio | OCR pages read in the window | scan job | errors |\n|---|---|---|---|---|---|---|\n');
process.stdout.write(rows.join('\n') + '\n');
