import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { KeyStore } from '../../src/keys/key-store.ts';
import { buildApp } from '../../src/server/app.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

describe('collections', () => {
  let app: FastifyInstance;
  let base: string;
  let admin: string;
  let hrOnly: string;
  let dataDir: string;

  before(async () => {
    dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    hrOnly = keys.create({ scope: 'query', collection: 'hr' }).key;
    const knowledgeBase = await corpusKnowledgeBase({ dataDir });
    app = await buildApp({ config: testConfig({ KB_DATA_DIR: dataDir }), knowledgeBase, keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const json = (method: string, url: string, body?: unknown, key = admin) =>
    fetch(base + url, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });

  it('creates a collection with its own index, fills it, and keeps it apart from the default one', async () => {
    const created = await json('POST', '/v1/collections', { name: 'hr', settings: { chunkTokens: 200, languages: ['zh'] } });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal((await json('POST', '/v1/collections', { name: 'hr' })).status, 409);
    assert.equal((await json('POST', '/v1/collections', { name: 'Bad Name!' })).status, 400);
    const form = new FormData();
    form.append('file', new Blob([readFileSync('docs-corpus/hr/员工手册-休假制度.md')]), '员工手册-休假制度.md');
    form.append('file', new Blob([readFileSync('docs-corpus/hr/employee-handbook-leave.md')]), 'employee-handbook-leave.md');
    const upload = await fetch(`${base}/v1/collections/hr/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    assert.equal(upload.status, 202);
    await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
    assert.ok(existsSync(path.join(dataDir, 'collections', 'hr', 'kb.sqlite')));

    const inHr = (await (await json('POST', '/v1/search', { query: '年假', collection: 'hr' })).json()) as { results: { source: string }[] };
    assert.ok(inHr.results.length > 0);
    // The collection searches Chinese only (its languages setting): the English handbook is not returned.
    assert.ok(
      inHr.results.every((result) => result.source === '员工手册-休假制度.md'),
      JSON.stringify(inHr.results.map((result) => result.source)),
    );
    const inDefault = (await (await json('POST', '/v1/search', { query: '年假' })).json()) as { results: { source: string }[] };
    assert.ok(inDefault.results.every((result) => result.source.startsWith('docs-corpus/')));
    const answer = (await (await json('POST', '/v1/ask', { question: '员工每年有几天带薪年假？', collection: 'hr' })).json()) as { answer: string; citations: { source: string }[] };
    assert.match(answer.answer, /15/);
    const listed = (await (await json('GET', '/v1/collections')).json()) as { collections: { name: string; documents?: number }[] };
    assert.deepEqual(
      listed.collections.map((collection) => [collection.name, collection.documents]),
      [
        ['default', 33],
        ['hr', 2],
      ],
    );
  });

  it('limits a key created for one collection to it, and lists collections as OpenAI models', async () => {
    assert.equal((await json('POST', '/v1/search', { query: '年假', collection: 'hr' }, hrOnly)).status, 200);
    assert.equal((await json('POST', '/v1/search', { query: '年假' }, hrOnly)).status, 403);
    assert.equal((await json('POST', '/v1/search', { query: 'x', collection: 'nope' })).status, 404);
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: admin, maxRetries: 0 });
    assert.deepEqual(
      (await client.models.list()).data.map((model) => model.id),
      ['kb-default', 'kb-hr'],
    );
    const completion = await client.chat.completions.create({ model: 'kb-hr', messages: [{ role: 'user', content: '陪产假几天？' }] });
    assert.match(completion.choices[0]!.message.content ?? '', /10/);
  });

  it('asks several collections at once and merges their results by rank', async () => {
    assert.equal((await json('POST', '/v1/collections', { name: 'it' })).status, 201);
    const form = new FormData();
    form.append('file', new Blob([readFileSync('docs-corpus/it/vpn-faq.md')]), 'vpn-faq.md');
    assert.equal((await fetch(`${base}/v1/collections/it/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form })).status, 202);
    await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
    const both = (await (await json('POST', '/v1/search', { query: '年假 VPN session', collections: ['hr', 'it'], topK: 6 })).json()) as { results: { source: string }[] };
    const sources = new Set(both.results.map((result) => result.source));
    assert.ok(sources.has('vpn-faq.md') && sources.has('员工手册-休假制度.md'), JSON.stringify([...sources]));
    const answer = (await (await json('POST', '/v1/ask', { question: 'How long can a VPN session last?', collections: ['hr', 'it'] })).json()) as { answer: string; citations: { source: string }[] };
    assert.match(answer.answer, /12 hours/);
    assert.equal(answer.citations[0]?.source, 'vpn-faq.md');
    assert.equal((await json('POST', '/v1/search', { query: 'x', collection: 'hr', collections: ['it'] })).status, 400);
    assert.equal((await json('POST', '/v1/search', { query: 'vpn', collections: ['hr', 'it'] }, hrOnly)).status, 403, 'a key limited to hr cannot reach it');
  });

  it('deletes a collection with its index', async () => {
    assert.equal((await json('DELETE', '/v1/collections/default')).status, 403);
    assert.equal((await json('DELETE', '/v1/collections/hr')).status, 204);
    assert.equal((await json('DELETE', '/v1/collections/hr')).status, 404);
    assert.ok(!existsSync(path.join(dataDir, 'collections', 'hr')));
    assert.equal((await json('POST', '/v1/search', { query: '年假', collection: 'hr' })).status, 404);
  });

  it('ingests into a named collection from the command line', () => {
    const cliData = temporaryDirectory();
    const result = spawnSync(process.execPath, [path.resolve('bin/kb.js'), 'ingest', '--collection', 'it', 'docs-corpus/it'], { encoding: 'utf8', env: { ...process.env, KB_DATA_DIR: cliData } });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /7 added/);
    const asked = spawnSync(process.execPath, [path.resolve('bin/kb.js'), 'ask', '--collection', 'it', 'How long can a VPN session last?'], {
      encoding: 'utf8',
      env: { ...process.env, KB_DATA_DIR: cliData },
    });
    assert.match(asked.stdout, /12 hours/);
  });
});
