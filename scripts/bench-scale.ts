// npm run bench -- --scale DIR [DIR…] [--seconds N] [--connections 1,10,50] [--postgres]
// The service at real size, as it runs: `kb ingest` and `kb serve` in child processes over a fresh data directory,
// driven over HTTP by autocannon with questions written from the scale corpus headings
// (scripts/bench-data/scale-questions.txt, cycled). Reported with references measured in the same run: the same
// server's /healthz, and MiniSearch over the same chunks with the same tokenizer, in process.
// Example: npm run bench -- --scale ../shared/corpora/scale/otel ../shared/corpora/scale/apisix   (~11k chunks)
//          npm run bench -- --scale ../shared/corpora/scale                                      (~100k chunks)
// --postgres adds, in the same run, the same ingest into Debian's PostgreSQL (a throw-away cluster, as the tests
// start it) and /v1/search over it from one node and from two nodes sharing the database, against the same client.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import MiniSearch from 'minisearch';
import { loadConfig } from '../src/config.ts';
import { percentile } from '../src/evaluation/metrics.ts';
import { KnowledgeBase } from '../src/knowledge-base.ts';
import { queryTerms as queryTermWeights, tokenize } from '../src/text/tokenize.ts';
import { READ_EVERYTHING } from '../src/retrieve/read-scope.ts';
import type { LocalStorage } from '../src/store/local-storage.ts';
import { startDebianPostgres } from '../tests/helpers/debian-postgres.ts';
import { freePort } from '../tests/helpers/free-port.ts';

interface Options {
  folders: string[];
  seconds: number;
  connections: number[];
  postgres: boolean;
}

function parseOptions(argv: string[]): Options {
  const folders: string[] = [];
  let seconds = 10;
  let connections = [1, 10, 50];
  let postgres = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--scale') continue;
    if (argument === '--seconds') seconds = Number(argv[++index]);
    else if (argument === '--postgres') postgres = true;
    else if (argument === '--connections') connections = argv[++index]!.split(',').map(Number);
    else folders.push(argument);
  }
  if (folders.length === 0) throw new Error('usage: npm run bench -- --scale DIR [DIR…] [--seconds N] [--connections 1,10,50]');
  if (!(seconds > 0) || connections.some((count) => !(count > 0))) throw new Error('--seconds and --connections take positive numbers');
  return { folders, seconds, connections, postgres };
}

/** Bytes of the files under a folder (of those `counted` accepts). */
function bytesUnder(entry: string, counted: (file: string) => boolean = () => true): number {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return counted(entry) ? stats.size : 0;
  return readdirSync(entry).reduce((sum, name) => sum + bytesUnder(path.join(entry, name), counted), 0);
}

const markdownBytes = (folder: string) => bytesUnder(folder, (file) => /\.(md|markdown)$/i.test(file));

/** Peak resident memory of a child process (Linux VmHWM), sampled until it exits. */
function watchPeakRss(child: ChildProcess): { peakMiB: () => number; stop: () => void } {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kilobytes = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kilobytes / 1024);
    } catch {
      // the process has exited
    }
  };
  const timer = setInterval(sample, 200);
  return { peakMiB: () => (sample(), peak), stop: () => clearInterval(timer) };
}

function cli(args: string[], environment: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function stats(samples: number[]): { p50: number; p99: number } {
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function load(
  url: string,
  connections: number,
  seconds: number,
  body?: (index: number) => string,
): Promise<{ requestsPerSecond: number; p50: number; p99: number; errors: number; busy503: number; otherNon2xx: number }> {
  let counter = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    ...(body
      ? {
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              setupRequest: (request: autocannon.Request) => ({ ...request, body: body(counter++) }),
            },
          ],
        }
      : {}),
  });
  const codes = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  const busy503 = codes['503']?.count ?? 0;
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    busy503,
    otherNon2xx: result.non2xx - busy503,
  };
}

/** `kb ingest` of the folders in a child process, with its wall time and peak memory. */
async function ingestAll(environment: Record<string, string>): Promise<{ summary: { chunks: number; added: number; failed: unknown[] }; ingestSeconds: number; ingestPeak: number }> {
  const ingestStarted = performance.now();
  const ingest = cli(['ingest', ...options.folders, '--json'], environment);
  const ingestMemory = watchPeakRss(ingest);
  let ingestOutput = '';
  ingest.stdout!.on('data', (part: Buffer) => (ingestOutput += part.toString('utf8')));
  let ingestErrors = '';
  ingest.stderr!.on('data', (part: Buffer) => (ingestErrors = (ingestErrors + part.toString('utf8')).slice(-4000)));
  const ingestCode = await new Promise<number | null>((resolve) => ingest.on('exit', resolve));
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  const ingestPeak = ingestMemory.peakMiB();
  ingestMemory.stop();
  // Exit 1 means some files could not be indexed (real folders hold front-matter-only pages); the summary says which.
  if (ingestCode !== 0 && ingestCode !== 1) throw new Error(`kb ingest exited with ${ingestCode}: ${ingestErrors}`);
  const summary = JSON.parse(ingestOutput.trim().split('\n').at(-1)!) as { chunks: number; added: number; failed: unknown[] };
  return { summary, ingestSeconds, ingestPeak };
}

/** `kb serve` in a child process, once /readyz answers 200. */
async function serve(environment: Record<string, string>): Promise<{ base: string; server: ChildProcess; serverMemory: ReturnType<typeof watchPeakRss>; readySeconds: number }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serveStarted = performance.now();
  const server = cli(['serve', '--port', String(port)], environment);
  server.stdout!.resume();
  server.stderr!.resume();
  const serverMemory = watchPeakRss(server);
  for (;;) {
    if (server.exitCode !== null) throw new Error(`kb serve exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { base, server, serverMemory, readySeconds: (performance.now() - serveStarted) / 1000 };
}

async function stop(server: ChildProcess): Promise<void> {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
}

/**
 * The same folders in PostgreSQL (Debian's server, a throw-away cluster): ingest against the embedded store's rate of
 * this run, then /v1/search from one node, and from two nodes sharing the database driven by the same client (half
 * the connections each, at once). Ratios are against this run's embedded figures and /healthz.
 */
async function benchPostgres(healthRequestsPerSecond: number, embeddedChunksPerSecond: number, searchBody: (index: number) => string): Promise<void> {
  const postgres = await startDebianPostgres();
  const nodeDirectories: string[] = [];
  const nodeEnvironment = () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-node-'));
    nodeDirectories.push(directory);
    return { ...environment, KB_DATA_DIR: directory, KB_DATABASE_URL: postgres.url };
  };
  try {
    const { summary, ingestSeconds, ingestPeak } = await ingestAll(nodeEnvironment());
    process.stdout.write("PostgreSQL (Debian's server, same folders; no pgvector: the built-in embedder keeps no vectors)\n");
    line('documents / chunks / failed', `${summary.added} / ${summary.chunks} / ${summary.failed.length}`);
    line('ingest chunks per second', `${fixed(summary.chunks / ingestSeconds)} (${fixed(summary.chunks / ingestSeconds / embeddedChunksPerSecond, 2)}× the embedded store's)`);
    line('ingest peak RSS MiB', fixed(ingestPeak, 0));
    const first = await serve(nodeEnvironment());
    const second = await serve(nodeEnvironment());
    try {
      line('ready seconds, one node', fixed(first.readySeconds, 2));
      // Warm-up, not reported: the database's caches and both nodes' code paths, as the embedded server's were warmed
      // by the /healthz run and its own first cells.
      await Promise.all([first, second].map((node) => load(`${node.base}/v1/search`, 2, Math.min(5, options.seconds), searchBody)));
      const connectionCounts = [...new Set(options.connections.map((count) => Math.max(2, count)))];
      for (const connections of connectionCounts) {
        const one = await load(`${first.base}/v1/search`, connections, options.seconds, searchBody);
        line(
          `/v1/search, one node, ${connections} connections`,
          `${fixed(one.requestsPerSecond)} req/s (${fixed((one.requestsPerSecond / healthRequestsPerSecond) * 100, 2)}% of /healthz) · p50 ${one.p50} ms · p99 ${one.p99} ms · errors ${one.errors} · non-2xx ${one.busy503 + one.otherNon2xx}`,
        );
        const [a, b] = await Promise.all([
          load(`${first.base}/v1/search`, Math.ceil(connections / 2), options.seconds, searchBody),
          load(`${second.base}/v1/search`, Math.floor(connections / 2), options.seconds, searchBody),
        ]);
        const total = a.requestsPerSecond + b.requestsPerSecond;
        line(
          `/v1/search, two nodes, ${connections} connections`,
          `${fixed(total)} req/s (${fixed(total / one.requestsPerSecond, 2)}× one node) · p50 ${Math.max(a.p50, b.p50)} ms · p99 ${Math.max(a.p99, b.p99)} ms · errors ${a.errors + b.errors} · non-2xx ${a.busy503 + a.otherNon2xx + b.busy503 + b.otherNon2xx}`,
        );
      }
      line('node peak RSS MiB', fixed(first.serverMemory.peakMiB(), 0));
    } finally {
      first.serverMemory.stop();
      second.serverMemory.stop();
      await Promise.all([stop(first.server), stop(second.server)]);
    }
  } finally {
    await postgres.stop();
    for (const directory of nodeDirectories) rmSync(directory, { recursive: true, force: true });
  }
}

const options = parseOptions(process.argv.slice(2));
const questions = readFileSync('scripts/bench-data/scale-questions.txt', 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bench-scale-'));
const environment = { KB_DATA_DIR: dataDir, KB_LLM_BASE_URL: '', KB_LOG_LEVEL: 'error', KB_RATE_LIMIT_PER_MINUTE: '10000000', KB_RATE_LIMIT_PER_IP_PER_MINUTE: '10000000' };
const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(44)} ${value}\n`);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

try {
  process.stdout.write(`scale benchmark: ${options.folders.join(' ')} (${questions.length} questions, ${options.seconds} s per cell)\n`);
  const sourceMegabytes = options.folders.reduce((sum, folder) => sum + markdownBytes(folder), 0) / 1024 / 1024;

  // Ingest, as a user runs it.
  const { summary, ingestSeconds, ingestPeak } = await ingestAll(environment);
  const indexBytes = bytesUnder(dataDir);
  process.stdout.write('ingest (kb ingest, a child process)\n');
  line('documents / chunks / failed', `${summary.added} / ${summary.chunks} / ${summary.failed.length}`);
  line('wall seconds (process start to exit)', fixed(ingestSeconds));
  line('chunks per second', fixed(summary.chunks / ingestSeconds));
  line('source MB per second', fixed(sourceMegabytes / ingestSeconds, 2));
  line('peak RSS MiB', fixed(ingestPeak, 0));
  line('index bytes per chunk', fixed(indexBytes / Math.max(summary.chunks, 1), 0));
  line('index MB / source MB', `${fixed(indexBytes / 1024 / 1024)} / ${fixed(sourceMegabytes)} = ${fixed(indexBytes / 1024 / 1024 / sourceMegabytes)}×`);

  // Serve, and measure from process start to ready.
  const { base, server, serverMemory, readySeconds } = await serve(environment);
  process.stdout.write('serve (kb serve, a child process)\n');
  line('ready seconds (process start to /readyz 200)', fixed(readySeconds, 2));
  try {
    const health = await load(`${base}/healthz`, 10, options.seconds);
    line('/healthz, 10 connections: req/s', fixed(health.requestsPerSecond, 0));
    const body = {
      search: (index: number) => JSON.stringify({ query: questions[index % questions.length] }),
      ask: (index: number) => JSON.stringify({ question: questions[index % questions.length] }),
    };
    for (const route of ['search', 'ask'] as const) {
      for (const connections of options.connections) {
        const result = await load(`${base}/v1/${route}`, connections, options.seconds, body[route]);
        line(
          `/v1/${route}, ${connections} connections`,
          `${fixed(result.requestsPerSecond)} req/s (${fixed((result.requestsPerSecond / health.requestsPerSecond) * 100, 2)}% of /healthz) · p50 ${result.p50} ms · p99 ${result.p99} ms · errors ${result.errors} · 503 ${result.busy503} · other non-2xx ${result.otherNon2xx}`,
        );
      }
    }
    line('server peak RSS MiB', fixed(serverMemory.peakMiB(), 0));
    if (options.postgres) await benchPostgres(health.requestsPerSecond, summary.chunks / ingestSeconds, body.search);
  } finally {
    serverMemory.stop();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.on('exit', resolve));
  }

  // In process: our keyword search against MiniSearch over the same chunks and tokenizer.
  const config = loadConfig({ ...process.env, ...environment });
  const knowledgeBase = await KnowledgeBase.open(config, { info: () => {}, warn: () => {} });
  try {
    const { keywords, documents } = knowledgeBase.storage;
    const ids = [...(knowledgeBase.storage as LocalStorage).engine.chunkIds()];
    const miniSearch = new MiniSearch<{ id: number; text: string }>({ fields: ['text'], tokenize: (text) => tokenize(text), processTerm: (term) => term });
    const buildStarted = performance.now();
    for (let start = 0; start < ids.length; start += 2000) {
      const chunks = await documents.getChunks(ids.slice(start, start + 2000));
      miniSearch.addAll([...chunks.values()].map((chunk) => ({ id: chunk.id, text: [chunk.title, ...chunk.headings, chunk.text].join('\n') })));
    }
    const miniSearchBuildSeconds = (performance.now() - buildStarted) / 1000;
    const parameters = { k1: config.retrieval.bm25K1, b: config.retrieval.bm25B };
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (const question of questions) {
        let started = performance.now();
        await keywords.search(queryTermWeights(question, config.retrieval.pairWeight), { read: READ_EVERYTHING }, config.retrieval.candidates, parameters);
        ours.push(performance.now() - started);
        started = performance.now();
        miniSearch.search(question).slice(0, config.retrieval.candidates);
        theirs.push(performance.now() - started);
      }
    }
    const our = stats(ours);
    const their = stats(theirs);
    process.stdout.write('in process, the same chunks and tokenizer\n');
    line('keyword search (ours): p50 / p99 ms', `${fixed(our.p50, 2)} / ${fixed(our.p99, 2)}`);
    line('MiniSearch: p50 / p99 ms', `${fixed(their.p50, 2)} / ${fixed(their.p99, 2)} (built in ${fixed(miniSearchBuildSeconds)} s)`);
    line('ours / MiniSearch at p50, p99', `${fixed(our.p50 / their.p50, 2)}, ${fixed(our.p99 / their.p99, 2)}`);
  } finally {
    await knowledgeBase.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
