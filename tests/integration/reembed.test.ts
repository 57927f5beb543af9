import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { CollectionRegistry } from '../../src/collections/registry.ts';
import { recoverReembed } from '../../src/collections/reembed.ts';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { documentCount, testConfig } from '../helpers/knowledge-base.ts';
import { startServer, type ServerProcess } from '../helpers/child-process.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';

describe('switching a collection’s embedding model', () => {
  let app: FastifyInstance;
  let base: string;
  let admin: string;
  let modelsDir: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    modelsDir = temporaryDirectory();
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
  const collection = async () =>
    ((await (await call('GET', '/v1/collections')).json()) as { collections: { name: string; embedder?: string; documents?: number; settings: Record<string, unknown> }[] }).collections.find(
      (item) => item.name === 'manuals',
    )!;
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

  // Regression: a model that is not installed was accepted with 202 and failed later in the job.
  it('refuses a switch to a model that is not installed at once, with 400, and starts no job', async () => {
    const refused = await call('POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'missing/model' });
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'KB_ERR_VALIDATION');
    assert.match(body.error.message, /missing\/model is not installed/);
    assert.equal((await call('POST', '/v1/collections/manuals/embedder', { embedder: 'auto', embeddingModel: 'missing/model' })).status, 400);
    assert.match((await collection()).embedder ?? '', /^transformers:test\/tiny-bert:8$/);
  });

  it('leaves the old index in place when the new model cannot be loaded', async () => {
    // Installed in appearance (config.json and onnx/model.onnx), but the weights are not an ONNX model.
    mkdirSync(path.join(modelsDir, 'broken', 'model', 'onnx'), { recursive: true });
    writeFileSync(path.join(modelsDir, 'broken', 'model', 'config.json'), '{"model_type": "bert"}');
    writeFileSync(path.join(modelsDir, 'broken', 'model', 'onnx', 'model.onnx'), 'not an onnx file');
    const started = await call('POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'broken/model' });
    assert.equal(started.status, 202);
    const { job } = (await started.json()) as { job: { id: string } };
    await jobsIdle();
    const finished = (await (await call('GET', `/v1/jobs/${job.id}`)).json()) as { state: string; error: string };
    assert.equal(finished.state, 'failed');
    assert.ok(finished.error.length > 0);
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
    writeFileSync(path.join(dataDir, 'reembed-swap.json'), JSON.stringify({ staging: '.reembed-job1', change: { embedder: 'builtin' } }));
    const committed: unknown[] = [];
    recoverReembed(dataDir, (change) => committed.push(change));
    assert.deepEqual(committed, [{ embedder: 'builtin' }]);
    assert.ok(!existsSync(path.join(dataDir, 'reembed-swap.json')));
    assert.ok(!existsSync(staging));
    const swapped = LocalStore.open(dataDir, embedder, hnsw);
    assert.deepEqual(
      swapped.listDocuments().map((document) => document.source),
      ['only.md'],
    );
    swapped.close();

    // A staging folder without a marker is a build that died: removed, the index untouched.
    mkdirSync(path.join(dataDir, '.reembed-job2'));
    writeFileSync(path.join(dataDir, '.reembed-job2', 'kb.sqlite'), 'partial');
    recoverReembed(dataDir, () => assert.fail('no swap to finish'));
    assert.ok(!existsSync(path.join(dataDir, '.reembed-job2')));
    const intact = LocalStore.open(dataDir, embedder, hnsw);
    assert.equal(intact.listDocuments().length, 1);
    intact.close();
  });
});

describe('killing the server during a model switch', () => {
  it('restarts on one consistent index, reports the cut job, and a new switch completes', async () => {
    const root = temporaryDirectory();
    const dataDir = path.join(root, 'data');
    const modelsDir = path.join(root, 'models');
    writeTinyModel(modelsDir, 'test/tiny-bert');
    const corpus = path.join(root, 'corpus');
    mkdirSync(corpus);
    const files = 300;
    for (let index = 0; index < files; index++) {
      const paragraphs = Array.from(
        { length: 8 },
        (_, paragraph) => `Step ${paragraph} for pump P-${index}: check seal ${index + paragraph}, torque ${paragraph * 5 + 20} N·m, log the reading in the maintenance book.`,
      );
      writeFileSync(path.join(corpus, `pump-${String(index).padStart(3, '0')}.md`), `# Pump ${index}\n\n${paragraphs.join('\n\n')}\n`);
    }
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_MODELS_DIR: modelsDir, KB_CHUNK_TOKENS: '60', KB_CHUNK_OVERLAP: '0' });
    const registry = new CollectionRegistry(config, silentLogger);
    await registry.create('manuals', { embedder: 'builtin', chunkTokens: 60, chunkOverlap: 0 });
    await (await registry.get('manuals')).ingest([corpus], { baseDir: corpus });
    await registry.closeAll();
    const collectionDir = path.join(dataDir, 'collections', 'manuals');
    const admin = new KeyStore(dataDir).create({ scope: 'admin' }).key;
    const environment = { KB_DATA_DIR: dataDir, KB_MODELS_DIR: modelsDir };

    const request = async (server: ServerProcess, method: string, url: string, body?: unknown) => {
      const response = await fetch(server.url + url, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const manuals = async (server: ServerProcess) =>
      ((await request(server, 'GET', '/v1/collections')).body['collections'] as { name: string; embedder: string; documents: number }[]).find((item) => item.name === 'manuals')!;
    const assertConsistent = (embedder: { id: string; dimensions: number }) => {
      const store = LocalStore.open(collectionDir, embedder, { m: 16, efConstruction: 100, efSearch: 50 });
      const report = store.checkConsistency();
      store.close();
      assert.deepEqual([report.documents, report.chunksWithoutVector, report.vectorsWithoutChunk, report.documentsWithWrongChunkCount, report.orphanPostings], [files, 0, 0, 0, 0]);
    };

    // Kill points by progress of the new index (the parent reads the staging database while the server writes it).
    for (const mark of [10, 100, 180]) {
      const server = await startServer(environment);
      const started = await request(server, 'POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'test/tiny-bert' });
      assert.equal(started.status, 202);
      const jobId = (started.body['job'] as { id: string }).id;
      let exited = false;
      void server.exited.then(() => (exited = true));
      const deadline = Date.now() + 60_000;
      let staged = 0;
      while (!exited && Date.now() < deadline && (staged = documentCount(path.join(collectionDir, `.reembed-${jobId}`))) < mark) await new Promise((resolve) => setTimeout(resolve, 3));
      server.child.kill('SIGKILL');
      await server.exited;
      assert.ok(staged >= mark && staged < files, `the kill should land mid-build (${staged} of ${files} documents staged)`);

      const restarted = await startServer(environment);
      try {
        const job = (await request(restarted, 'GET', `/v1/jobs/${jobId}`)).body;
        assert.equal(job['state'], 'failed');
        assert.match(String(job['error']), /stopped before the embedding model switch finished/);
        const collection = await manuals(restarted);
        assert.match(collection.embedder, /^builtin:/);
        assert.equal(collection.documents, files);
        const search = await request(restarted, 'POST', '/v1/search', { query: 'torque for pump P-42 step 3', collection: 'manuals' });
        assert.equal((search.body['results'] as { source: string }[])[0]?.source, 'pump-042.md');
        assert.deepEqual(
          readdirSync(collectionDir).filter((name) => name.startsWith('.reembed-')),
          [],
          'the dead build is removed',
        );
      } finally {
        restarted.child.kill('SIGTERM');
        await restarted.exited;
      }
      assertConsistent(new BuiltinEmbedder());
    }

    const server = await startServer(environment);
    try {
      const started = await request(server, 'POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'test/tiny-bert' });
      const jobId = (started.body['job'] as { id: string }).id;
      let job: Record<string, unknown> = {};
      // Polled as a client would (4 times a second, 2 minutes at most): faster polling of a slow switch on a loaded
      // machine ran into the key's rate limit (600 requests a minute).
      for (let attempt = 0; attempt < 480 && job['state'] !== 'succeeded' && job['state'] !== 'failed'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        job = (await request(server, 'GET', `/v1/jobs/${jobId}`)).body;
      }
      assert.equal(job['state'], 'succeeded', JSON.stringify(job));
      assert.equal((await manuals(server)).embedder, 'transformers:test/tiny-bert:8');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    assertConsistent({ id: 'transformers:test/tiny-bert:8', dimensions: 8 });
  });
});
