import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { OpenAiCompatibleModel } from '../../src/answer/openai-compatible.ts';
import { ConcurrencyLimit } from '../../src/limits.ts';
import { KbError } from '../../src/errors.ts';
import { buildApp } from '../../src/server/app.ts';
import { FakeOpenAi } from '../helpers/fake-openai.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

describe('concurrency limit', () => {
  it('admits up to the limit, queues up to the queue, and refuses beyond', async () => {
    const limit = new ConcurrencyLimit(1, 1, 'things');
    const first = await limit.acquire();
    const second = limit.acquire(); // waits in the queue
    await assert.rejects(limit.acquire(), (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_BUSY' && error.extra?.['retryAfter'] === 5);
    first();
    const release = await second;
    release();
    release(); // releasing twice is harmless
    (await limit.acquire())();
  });
});

describe('LLM calls beyond the limit', () => {
  const model = new FakeOpenAi();
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    await model.start();
    model.always({ kind: 'answer', text: 'Slow answer [1].', pieces: 4, delayMs: 150 });
    const knowledgeBase = await corpusKnowledgeBase({
      model: new OpenAiCompatibleModel({ baseUrl: model.baseUrl, model: 'fake', timeoutMs: 5000 }),
      environment: { KB_LLM_CONCURRENCY: '1', KB_LLM_QUEUE: '0' },
    });
    app = await buildApp({ config: testConfig({ KB_DATA_DIR: temporaryDirectory() }), knowledgeBase });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await model.stop();
  });

  it('answers 503 with Retry-After instead of queueing without bound', async () => {
    const ask = () => fetch(`${base}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'How long can a VPN session last?' }) });
    const first = ask();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await ask();
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('retry-after'), '5');
    assert.equal(((await second.json()) as { error: { code: string } }).error.code, 'KB_ERR_BUSY');
    assert.equal((await first).status, 200);
    assert.equal((await ask()).status, 200, 'a slot is free again afterwards');
  });
});

// Measured on the 100k index: 50 clients queued behind one event loop for 10–20 s and /healthz waited with them.
describe('requests in flight beyond the limit', () => {
  const model = new FakeOpenAi();
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    await model.start();
    model.always({ kind: 'answer', text: 'Slow answer [1].', pieces: 4, delayMs: 300 });
    const knowledgeBase = await corpusKnowledgeBase({ model: new OpenAiCompatibleModel({ baseUrl: model.baseUrl, model: 'fake', timeoutMs: 5000 }) });
    app = await buildApp({ config: testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_MAX_IN_FLIGHT: '2' }), knowledgeBase });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await model.stop();
  });

  it('answers 503 with Retry-After at once beyond KB_MAX_IN_FLIGHT, keeps /healthz answering, and frees the slots', async () => {
    const post = (route: string, body: object) => fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const slow = [post('/v1/ask', { question: 'How long can a VPN session last?' }), post('/v1/ask', { question: 'What does fault code E-104 mean?' })];
    await new Promise((resolve) => setTimeout(resolve, 80));
    // Refused, not queued: a queued request would have been answered 200 once a slow one finished.
    const refused = await post('/v1/search', { query: 'vpn' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'KB_ERR_BUSY');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    for (const response of await Promise.all(slow)) assert.equal(response.status, 200);
    assert.equal((await post('/v1/search', { query: 'vpn' })).status, 200, 'the slots are free again');
  });

  it('frees the slots of clients that went away while their requests were in flight', async () => {
    for (let round = 0; round < 3; round++) {
      const controllers = [new AbortController(), new AbortController()];
      const gone = controllers.map((controller, index) =>
        fetch(`${base}/v1/ask`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ question: index === 0 ? 'How long can a VPN session last?' : 'What does fault code E-104 mean?' }),
          signal: controller.signal,
        }).catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 60 + round * 100));
      for (const controller of controllers) controller.abort();
      await Promise.all(gone);
    }
    // The abandoned answers finish in the background (4 pieces of 300 ms); then both slots must be free.
    await new Promise((resolve) => setTimeout(resolve, 1800));
    const statuses = await Promise.all(
      [0, 1].map(() => fetch(`${base}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'vpn' }) }).then((response) => response.status)),
    );
    assert.deepEqual(statuses, [200, 200]);
  });
});
