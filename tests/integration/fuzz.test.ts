// API fuzzing: every route of the OpenAPI document gets malformed JSON, wrong types, huge strings, unicode edge
// cases and path traversal in ids. The service must answer each with a 4xx (or a 2xx where the input happens to be
// valid), never a 5xx, never hang, and stay up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { KeyStore } from '../../src/keys/key-store.ts';
import type { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

/** Deterministic pseudo-random choices, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const strings = [
  '',
  ' ',
  'x'.repeat(100_000),
  '\u0000',
  '\uD800',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 ‮RTL',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '注塑机'.repeat(2000),
  'E-104',
  '{"$gt": ""}',
];
const values: unknown[] = [null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER, 3.5, [], {}, [1, 'a'], { a: { b: { c: [] } } }, ...strings];
const rawBodies = ['{', '{"question": ', '[1,2', 'null', '"text"', '{"a":1}{"b":2}', '\u0000\u0001', '{"question": "\\ud800"}', '{'.repeat(10_000)];

describe('API fuzzing', () => {
  let knowledgeBase: KnowledgeBase;
  let app: FastifyInstance;
  let base: string;
  let admin: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    knowledgeBase = await corpusKnowledgeBase();
    app = await buildApp({
      config: testConfig({ KB_DATA_DIR: dataDir, KB_RATE_LIMIT_PER_MINUTE: '100000', KB_RATE_LIMIT_PER_IP_PER_MINUTE: '100000', KB_UPLOAD_MAX_BYTES: '100000' }),
      knowledgeBase,
      keys,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  it('answers every malformed request to every route without a 5xx', async () => {
    const document = (await (await fetch(`${base}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }>>;
    };
    const routes = Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        route,
        method: method.toUpperCase(),
        fields: Object.keys(operation.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
      })),
    );
    assert.ok(routes.length >= 14, `${routes.length} routes in the OpenAPI document`);
    const next = random(20261128);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const ids = ['default', '0123456789abcdef', '..', '%2e%2e%2f', '../../keys.json', 'x'.repeat(5000), '😀', '00000000-0000-4000-8000-000000000000', "1' OR '1'='1"];
    // A lone surrogate cannot be percent-encoded as UTF-8: send the raw bytes of one instead (invalid UTF-8).
    const encode = (value: string) => {
      try {
        return encodeURIComponent(value);
      } catch {
        return '%ED%A0%80';
      }
    };
    let sent = 0;
    const failures: string[] = [];
    for (const { route, method, fields } of routes) {
      for (let round = 0; round < 60; round++) {
        const url = route.replace(/\{(\w+)\}/g, () => encode(pick(ids))) + (round % 5 === 0 ? `?limit=${encode(String(pick(values)))}&offset=-1` : '');
        let body: string | undefined;
        let contentType = 'application/json';
        if (method !== 'GET' && method !== 'DELETE') {
          if (round % 3 === 0) body = pick(rawBodies);
          else {
            const payload: Record<string, unknown> = {};
            for (const field of fields) if (next() < 0.8) payload[field] = pick(values);
            if (next() < 0.3) payload[pick(strings).slice(0, 20) || 'extra'] = pick(values);
            body = JSON.stringify(payload);
          }
          if (round % 7 === 0) contentType = pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']);
        }
        const headers: Record<string, string> = {
          authorization: `Bearer ${
            round % 4 === 0
              ? pick(strings)
                  .slice(0, 200)
                  .replace(/[^\x20-\x7e]/g, '?') || 'x'
              : admin
          }`,
        };
        if (body !== undefined) headers['content-type'] = contentType;
        if (round % 6 === 0) headers['origin'] = pick(['https://evil.example', 'null', 'http://127.0.0.1']);
        const response = await fetch(base + url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        sent++;
        if (response.status >= 500) failures.push(`${method} ${url.slice(0, 80)} → ${response.status}`);
      }
    }
    // Wait for jobs that valid-looking uploads may have started, then check the service is still healthy.
    await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests got a 5xx`);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ask = await fetch(`${base}/v1/ask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'How long can a VPN session last?' }),
    });
    assert.equal(ask.status, 200);
    process.stdout.write(`# fuzz: ${sent} requests over ${routes.length} routes, 0 with a 5xx\n`);
  });
});
