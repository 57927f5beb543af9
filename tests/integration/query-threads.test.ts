// Query threads (server/query-threads.ts): the same answers, sources and search results as in the main thread, every
// read route through them, writes of the main thread (an upload) seen by the threads at their next query, and reader
// groups applied there too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { KeyStore } from '../../src/keys/key-store.ts';
import { KnowledgeBase, useQueryThreads } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { QueryThreads } from '../../src/server/query-threads.ts';
import type { Job } from '../../src/jobs/jobs.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const questions = ['How do I reset my VPN password?', '年假有多少天？', 'What does fault code E-104 mean?', '注塑机锁模力不足怎么办', 'What is the capital of France?'];

describe('query threads', () => {
  let app: FastifyInstance;
  let threads: QueryThreads;
  let admin: string;
  let reader: string;
  let finance: string;
  let base: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    reader = keys.create({ scope: 'query' }).key;
    finance = keys.create({ scope: 'query', groups: ['finance'] }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_RATE_LIMIT_PER_MINUTE: '100000', KB_RATE_LIMIT_PER_IP_PER_MINUTE: '100000' });
    const knowledgeBase = await KnowledgeBase.open(config, silentLogger);
    await knowledgeBase.ingest(['docs-corpus']);
    app = await buildApp({ config, knowledgeBase, keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    threads = new QueryThreads(2);
  });
  after(async () => {
    useQueryThreads(undefined);
    await threads.close();
    await app.close();
  });

  const post = (url: string, body: unknown, key = reader, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
  /** What must not differ between the main thread and a query thread: all but ids, timings and link signatures. */
  const volatileKeys = new Set(['answerId', 'timings', 'id', 'created', 'totalMs', 'keywordMs', 'denseMs', 'rerankMs']);
  const unsigned = (text: string) => text.replace(/expires=\d+&signature=[\w-]+/g, 'signed');
  const comparable = (body: string) => JSON.parse(unsigned(body), (key, value: unknown) => (volatileKeys.has(key) ? undefined : value)) as unknown;
  const allRoutes = async () => {
    const results: unknown[] = [];
    for (const question of questions) {
      const ask = await post('/v1/ask', { question });
      assert.equal(ask.statusCode, 200, ask.body);
      const search = await post('/v1/search', { query: question, topK: 5 });
      assert.equal(search.statusCode, 200, search.body);
      const chat = await post('/v1/chat/completions', { model: 'kb-default', messages: [{ role: 'user', content: question }] });
      assert.equal(chat.statusCode, 200, chat.body);
      const stream = await post('/v1/ask', { question, stream: true }, reader, { accept: 'text/event-stream' });
      const streamed = stream.body
        .split('\n\n')
        .filter((event) => event.startsWith('event: sources') || event.startsWith('event: delta'))
        .join('\n\n');
      results.push({ ask: comparable(ask.body), search: comparable(search.body), chat: comparable(chat.body), streamed: unsigned(streamed) });
    }
    return results;
  };

  it('gives the same answers, sources and results on every read route as the main thread', async () => {
    const inMain = await allRoutes();
    useQueryThreads(threads);
    try {
      const answeredBefore = threads.answered;
      const inThreads = await allRoutes();
      assert.deepEqual(inThreads, inMain);
      // Every ask (plain, streamed, chat) and search went through a thread.
      assert.equal(threads.answered - answeredBefore, questions.length * 4);
    } finally {
      useQueryThreads(undefined);
    }
  });

  it('sees an upload of the main thread at the next query, with its reader groups', async () => {
    useQueryThreads(threads);
    try {
      const form = new FormData();
      form.append('metadata', JSON.stringify({ groups: ['finance'] }));
      form.append('file', new Blob(['# Travel budget\n\nThe quarterly travel budget code is TB-7781 for every department.\n']), 'travel-budget.md');
      const response = await fetch(`${base}/v1/collections/default/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}` },
        body: form,
      });
      assert.equal(response.status, 202);
      const { job } = (await response.json()) as { job: Job };
      for (let attempt = 0; attempt < 400; attempt++) {
        const current = JSON.parse((await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}`, headers: { authorization: `Bearer ${admin}` } })).body) as Job;
        if (current.state === 'succeeded') break;
        assert.notEqual(current.state, 'failed', JSON.stringify(current));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const question = { question: 'What is the quarterly travel budget code?' };
      const allowed = JSON.parse((await post('/v1/ask', question, finance)).body) as { answer: string; answerable: boolean };
      assert.equal(allowed.answerable, true);
      assert.match(allowed.answer, /TB-7781/);
      for (const route of ['/v1/ask', '/v1/search']) {
        const outside = await post(route, route === '/v1/ask' ? question : { query: question.question }, reader);
        assert.doesNotMatch(outside.body, /TB-7781/, `${route} with a key outside the group`);
      }
    } finally {
      useQueryThreads(undefined);
    }
  });

  it('serves a collection created and filled by the main thread, with its languages setting, and several at once', async () => {
    useQueryThreads(threads);
    try {
      const asAdmin = { authorization: `Bearer ${admin}` };
      const created = await app.inject({
        method: 'POST',
        url: '/v1/collections',
        headers: { ...asAdmin, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'hr', settings: { languages: ['zh'] } }),
      });
      assert.equal(created.statusCode, 201, created.body);
      const form = new FormData();
      form.append('file', new Blob(['# 班车\n\n园区班车每天早上七点半从东门发车。\n']), '班车.md');
      form.append('file', new Blob(['# Shuttle\n\nThe campus shuttle leaves the east gate at 7:30 every morning.\n']), 'shuttle.md');
      assert.equal((await fetch(`${base}/v1/collections/hr/documents`, { method: 'POST', headers: asAdmin, body: form })).status, 202);
      await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
      const answered = threads.answered;
      const search = JSON.parse((await post('/v1/search', { query: '班车 shuttle', collection: 'hr' })).body) as { results: { source: string }[] };
      // The collection searches Chinese only: its languages setting travels with it to the thread.
      assert.deepEqual(
        search.results.map((result) => result.source),
        ['班车.md'],
      );
      const both = JSON.parse((await post('/v1/ask', { question: '班车几点发车？', collections: ['hr', 'default'] })).body) as { answer: string; citations: { source: string }[] };
      assert.match(both.answer, /七点半/);
      assert.ok(threads.answered > answered, 'the thread answered');
      // Deleted and created again under the same name, empty: the threads read the new folder, not their old view.
      assert.equal((await app.inject({ method: 'DELETE', url: '/v1/collections/hr', headers: asAdmin })).statusCode, 204);
      assert.equal(
        (await app.inject({ method: 'POST', url: '/v1/collections', headers: { ...asAdmin, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'hr' }) })).statusCode,
        201,
      );
      const emptied = JSON.parse((await post('/v1/search', { query: '班车 shuttle', collection: 'hr' })).body) as { results: unknown[] };
      assert.deepEqual(emptied.results, []);
    } finally {
      useQueryThreads(undefined);
    }
  });
});
