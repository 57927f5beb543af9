import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { recoverReembed } from '../../src/collections/reembed.ts';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';

describe('switching a collection’s embedding model', () => {
  let app: FastifyInstance;
  let base: string;
  let admin: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    const modelsDir = temporaryDirectory();
    writeTinyModel(modelsDir, 'test/tiny-bert');
    admin = new KeyStore(dataDir).create({ scope: 'admin' }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_MODELS_DIR: modelsDir });
    app = await buildApp({ config, knowledgeBase: await KnowledgeBase.open(config, silentLogger), keys: new KeyStore(dataDir) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    await call('POST', '/v1/collections', { name: 'manuals', settings: { embedder: 'builtin' } });
    const form = new FormData();
    form.append('file', new Blob([readFileSync('docs-corpus/it/vpn-faq.md')]), 'vpn-faq.md');
    form.append('file', new Blob([readFileSync('docs-corpus/it/password-policy.md')]), 'password-policy.md');
    await fetch(`${base}/v1/collections/manuals/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    await jobsIdle();
  });
  after(() => app.close());

  function call(method: string, url: string, body?: unknown) {
    return fetch(base + url, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  }
  const jobsIdle = () => (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
  const collection = async () => ((await (await call('GET', '/v1/collections')).json()) as { collections: { name: string; embedder?: string; documents?: number; settings: Record<string, unknown> }[] }).collections.find((item) => item.name === 'manuals')!;
  const search = async () => ((await (await call('POST', '/v1/search', { query: 'VPN session', collection: 'manuals' })).json()) as { results: { source: string }[] }).results;

  it('rebuilds the vectors with the new model in the background and swaps them in', async () => {
    assert.match((await collection()).embedder ?? '', /^builtin:/);
    const started = await call('POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'test/tiny-bert' });
    assert.equal(started.status, 202);
    const { job } = (await started.json()) as { job: { id: string } };
    // Queries keep working while the job runs.
    assert.ok((await search()).length > 0);
    await jobsIdle();
    const finished = (await (await call('GET', `/v1/jobs/${job.id}`)).json()) as { state: string; progress: { done: number; total: number } };
    assert.deepEqual([finished.state, finished.progress], ['succeeded', { done: 2, total: 2 }]);
    const after = await collection();
    assert.match(after.embedder ?? '', /^transformers:test\/tiny-bert:8$/);
    assert.equal(after.documents, 2);
    assert.equal(after.settings['embeddingModel'], 'test/tiny-bert');
    assert.equal((await search())[0]?.source, 'vpn-faq.md');
  });

  it('leaves the old index in place when the new model cannot be loaded', async () => {
    const started = await call('POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'missing/model' });
    const { job } = (await started.json()) as { job: { id: string } };
    await jobsIdle();
    const finished = (await (await call('GET', `/v1/jobs/${job.id}`)).json()) as { state: string; error: string };
    assert.equal(finished.state, 'failed');
    assert.match(finished.error, /not installed/);
    assert.match((await collection()).embedder ?? '', /^transformers:test\/tiny-bert:8$/);
    assert.ok((await search()).length > 0);
    assert.equal((await call('POST', '/v1/collections/default/embedder', { embedder: 'builtin' })).status, 409);
  });
});

describe('re-embedding after a crash', () => {
  it('completes a swap a crash interrupted, and discards a build a crash interrupted', async () => {
    const dataDir = temporaryDirectory();
    const embedder = new BuiltinEmbedder();
    const hnsw = { m: 16, efConstruction: 100, efSearch: 50 };
    const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: dataDir }), silentLogger);
    await knowledgeBase.ingest(['docs-corpus/it']);
    knowledgeBase.close();

    // A finished staging index whose swap was cut after the marker was written: the next open rolls it forward.
    const staging = path.join(dataDir, '.reembed-job1');
    mkdirSync(staging);
    const next = LocalStore.open(staging, embedder, hnsw);
    next.upsertDocument({ source: 'only.md', title: 'Only', language: 'en', format: 'markdown', contentHash: 'h' }, []);
    next.flush();
    next.close();
    writeFileSync(path.join(dataDir, 'reembed-swap.json'), JSON.stringify({ staging: '.reembed-job1' }));
    recoverReembed(dataDir);
    assert.ok(!existsSync(path.join(dataDir, 'reembed-swap.json')));
    assert.ok(!existsSync(staging));
    const swapped = LocalStore.open(dataDir, embedder, hnsw);
    assert.deepEqual(swapped.listDocuments().map((document) => document.source), ['only.md']);
    swapped.close();

    // A staging folder without a marker is a build that died: removed, the index untouched.
    mkdirSync(path.join(dataDir, '.reembed-job2'));
    writeFileSync(path.join(dataDir, '.reembed-job2', 'kb.sqlite'), 'partial');
    recoverReembed(dataDir);
    assert.ok(!existsSync(path.join(dataDir, '.reembed-job2')));
    const intact = LocalStore.open(dataDir, embedder, hnsw);
    assert.equal(intact.listDocuments().length, 1);
    intact.close();
  });
});
