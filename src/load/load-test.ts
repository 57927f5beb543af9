// Load under ingestion: autocannon drives /v1/search and /v1/ask (extractive) with many concurrent clients against
// a real server on loopback while a background ingestion job runs. Used by `npm run load` (long) and by a short CI
// test; the figures are reported, and the only pass/fail criterion is correctness: no errors, no non-2xx.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../config.ts';
import { KeyStore } from '../keys/key-store.ts';
import { KnowledgeBase } from '../knowledge-base.ts';
import { buildApp } from '../server/app.ts';

export interface LoadResult {
  route: string;
  requests: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
  timeouts: number;
}

export interface LoadReport {
  results: LoadResult[];
  ingestion: { files: number; state: string; done: number };
}

function documentsIn(folder: string, limit: number): string[] {
  const found: string[] = [];
  const visit = (entry: string) => {
    if (found.length >= limit) return;
    if (statSync(entry).isDirectory()) for (const name of readdirSync(entry).sort()) visit(path.join(entry, name));
    else if (/\.(pdf|md|html|txt|docx)$/i.test(entry)) found.push(entry);
  };
  visit(folder);
  return found;
}

export async function runLoad(options: { durationSeconds: number; connections: number; ingestFrom: string; ingestFiles: number }): Promise<LoadReport> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-load-'));
  const keys = new KeyStore(dataDir);
  const key = keys.create({ scope: 'admin' }).key;
  const config = loadConfig({
    KB_DATA_DIR: dataDir,
    KB_LOG_LEVEL: 'silent',
    KB_RATE_LIMIT_PER_MINUTE: '100000000',
    KB_RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    KB_LLM_BASE_URL: '',
    KB_MODELS_DIR: path.join(dataDir, 'no-models'),
    KB_UPLOAD_MAX_BYTES: String(200 * 1024 * 1024),
  });
  const knowledgeBase = await KnowledgeBase.open(config, { info: () => {}, warn: () => {} });
  await knowledgeBase.ingest(['docs-corpus']);
  const app = await buildApp({ config, knowledgeBase, keys });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const authorization = `Bearer ${key}`;
  try {
    // The ingestion jobs that run during the load: files uploaded through the API, as an administrator would
    // (at most KB_UPLOAD_MAX_FILES per request).
    const files = documentsIn(options.ingestFrom, options.ingestFiles);
    const jobIds: string[] = [];
    for (let start = 0; start < files.length; start += config.uploads.maxFiles) {
      const form = new FormData();
      files.slice(start, start + config.uploads.maxFiles).forEach((file, index) => form.append('file', new Blob([new Uint8Array(readFileSync(file))]), `load-${start + index}-${path.basename(file)}`));
      const upload = await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: { authorization }, body: form });
      if (upload.status !== 202) throw new Error(`upload refused: ${upload.status} ${await upload.text()}`);
      jobIds.push(((await upload.json()) as { job: { id: string } }).job.id);
    }

    const questions = ['What does fault code E-104 mean on the HL-400 lathe?', '注塑机报警 M-05 是什么意思？', 'How long can a VPN session last?', '年假有多少天？'];
    const results: LoadResult[] = [];
    for (const route of ['/v1/search', '/v1/ask']) {
      const result = await autocannon({
        url: base,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: 10,
        requests: questions.map((question) => ({
          method: 'POST' as const,
          path: route,
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify(route === '/v1/search' ? { query: question } : { question }),
        })),
      });
      results.push({
        route,
        requests: result.requests.total,
        requestsPerSecond: result.requests.average,
        latencyP50Ms: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        errors: result.errors,
        non2xx: result.non2xx,
        timeouts: result.timeouts,
      });
    }
    const states = await Promise.all(jobIds.map(async (id) => (await (await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization } })).json()) as { state: string; progress: { done: number } }));
    const done = states.reduce((sum, state) => sum + state.progress.done, 0);
    return { results, ingestion: { files: files.length, state: states.map((state) => state.state).join(','), done } };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
