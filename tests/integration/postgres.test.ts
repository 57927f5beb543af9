// KB_DATABASE_URL: the knowledge base's indexes in PostgreSQL (PGlite + pgvector over a socket, tests/helpers).
// PGlite is one database session behind the socket, whatever the number of connections: a transaction of one
// connection would take in the statements of another, so this process keeps one connection (KB_DATABASE_POOL_SIZE=1).
// Documents indexed by one node are answered by another node with its own, empty data directory; collections get
// their own schema; /readyz says which backend and which migration; the answers match the embedded store's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import { buildApp } from '../../src/server/app.ts';
import { openStorage } from '../../src/store/open-storage.ts';
import { closeDatabasePools } from '../../src/store/postgres-database.ts';
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres-storage.ts';
import { copyStorage } from '../../src/store/copy-storage.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';
import { postgresComponents } from '../../src/shared-state/postgres-components.ts';

const questions = ['What does fault code E-104 mean on the HL-400 lathe?', 'How do I fix VPN error 809?', '员工每年有几天带薪年假？', '注塑机报警 M-05 是什么意思？', 'What is the capital of France?'];

describe('PostgreSQL storage (KB_DATABASE_URL)', () => {
  let postgres: TestPostgres;
  let writer: KnowledgeBase;
  let embedded: KnowledgeBase;

  before(async () => {
    postgres = await startPostgres();
    writer = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_DATABASE_URL: postgres.url, KB_DATABASE_POOL_SIZE: '1' }), silentLogger);
    await writer.ingest(['docs-corpus']);
    embedded = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory() }), silentLogger);
    await embedded.ingest(['docs-corpus']);
  });
  after(async () => {
    await writer.close();
    await embedded.close();
    await closeDatabasePools();
    await postgres.stop();
  });

  it('answers like the embedded store, from another node that shares only the database', async () => {
    // A second node: its own (empty) data directory, the same database.
    const otherNode = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_DATABASE_URL: postgres.url, KB_DATABASE_POOL_SIZE: '1' }), silentLogger);
    try {
      assert.equal(await otherNode.storage.documents.documentCount(), 33);
      for (const question of questions) {
        const fromDatabase = await otherNode.ask({ question, scope: READ_EVERYTHING });
        const fromFiles = await embedded.ask({ question, scope: READ_EVERYTHING });
        assert.equal(fromDatabase.answerable, fromFiles.answerable, question);
        assert.equal(fromDatabase.answer, fromFiles.answer, question);
        assert.deepEqual(
          fromDatabase.citations.map((citation) => [citation.source, citation.page]),
          fromFiles.citations.map((citation) => [citation.source, citation.page]),
          question,
        );
      }
      const report = await otherNode.storage.checkConsistency();
      assert.deepEqual([report.documents, report.documentsWithWrongChunkCount, report.orphanPostings, report.chunksWithoutVector], [33, 0, 0, 0]);
    } finally {
      await otherNode.close();
    }
  });

  it('serves over HTTP with /readyz naming the backend, keeps collections in their own schema, and sees writes of the other node at once', async () => {
    const dataDir = temporaryDirectory();
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_DATABASE_URL: postgres.url, KB_DATABASE_POOL_SIZE: '1' });
    // Opened before the app is built, so that /readyz answers for a loaded index (a loading one answers 503 "loading").
    const app: FastifyInstance = await buildApp({ config, knowledgeBase: await KnowledgeBase.open(config, silentLogger) });
    try {
      const ready = JSON.parse((await app.inject({ method: 'GET', url: '/readyz' })).body) as {
        status: string;
        documents: number;
        storage: { backend: string; schema: string; schemaVersion: number };
      };
      assert.deepEqual([ready.status, ready.documents, ready.storage], ['ready', 33, { backend: 'postgresql', schema: 'kb_default', schemaVersion: POSTGRES_SCHEMA_VERSION }]);

      // The writer node indexes a new document; this node answers from it at the next request.
      await writer.ingestDocuments([{ source: 'notes/parking.txt', title: 'Parking', text: 'The staff car park gate code is 4711 and changes every March.' }]);
      const answer = JSON.parse(
        (await app.inject({ method: 'POST', url: '/v1/ask', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ question: 'What is the car park gate code?' }) })).body,
      ) as { answer: string };
      assert.match(answer.answer, /4711/);

      const created = await app.inject({ method: 'POST', url: '/v1/collections', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'field-service' }) });
      assert.equal(created.statusCode, 201, created.body);
      const form = new FormData();
      form.append('file', new Blob(['# Van keys\n\nService van keys hang in the cabinet behind the dispatch desk.\n']), 'vans.md');
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      assert.equal((await fetch(`${base}/v1/collections/field-service/documents`, { method: 'POST', body: form })).status, 202);
      await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
      const search = JSON.parse(
        (await app.inject({ method: 'POST', url: '/v1/search', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: 'van keys', collection: 'field-service' }) })).body,
      ) as { results: { source: string }[] };
      assert.deepEqual(
        search.results.map((result) => result.source),
        ['vans.md'],
      );
      const other = JSON.parse((await app.inject({ method: 'POST', url: '/v1/search', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: 'van keys' }) })).body) as {
        results: { source: string }[];
      };
      assert.ok(!other.results.some((result) => result.source === 'vans.md'), 'the default collection does not hold it');
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ documents: number }>('SELECT count(*)::integer AS documents FROM kb_field_service.documents');
        assert.deepEqual(rows, [{ documents: 1 }], 'the collection has its own schema');
      } finally {
        await client.end();
      }
    } finally {
      await app.close();
    }
  });

  it('moves a knowledge base from the embedded store to PostgreSQL and back with identical top-10 results on 50 questions', async () => {
    const questionsFile = readFileSync('docs-corpus/eval/questions.jsonl', 'utf8');
    const sample = questionsFile
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => (JSON.parse(line) as { question: string }).question)
      .slice(0, 50);
    assert.equal(sample.length, 50);
    const topTen = async (knowledgeBase: KnowledgeBase, question: string) => (await knowledgeBase.search(question, 10, READ_EVERYTHING)).chunks.map((chunk) => `${chunk.source}#${chunk.ordinal}`);

    const intoDatabase = { ...embedded.config, databaseUrl: postgres.url, collection: 'moved' };
    const databaseStorage = await openStorage(intoDatabase, embedded.embedder);
    const there = await copyStorage(embedded.storage, databaseStorage, embedded.embedder);
    assert.deepEqual([there.documents, there.targetDocuments, there.targetChunks], [33, 33, there.chunks]);
    const moved = await KnowledgeBase.open(intoDatabase, silentLogger);

    const backDir = temporaryDirectory();
    const back = await openStorage({ ...embedded.config, dataDir: backDir }, embedded.embedder);
    const returned = await copyStorage(moved.storage, back, embedded.embedder);
    await back.close();
    assert.deepEqual([returned.targetDocuments, returned.targetChunks], [33, there.chunks]);
    const movedBack = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: backDir }), silentLogger);
    try {
      for (const question of sample) {
        const expected = await topTen(embedded, question);
        assert.deepEqual(await topTen(moved, question), expected, `PostgreSQL: ${question}`);
        assert.deepEqual(await topTen(movedBack, question), expected, `back in the embedded store: ${question}`);
      }
    } finally {
      await moved.close();
      await movedBack.close();
    }
  });

  it('switches a collection to another embedding model on one node, and the other node follows within seconds', async () => {
    const modelsDir = temporaryDirectory();
    writeTinyModel(modelsDir, 'test/tiny-bert');
    // Two nodes in this process, each with its own components (change checker, registry, job worker) over the database.
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const config = testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_DATABASE_URL: postgres.url, KB_DATABASE_POOL_SIZE: '1', KB_MODELS_DIR: modelsDir });
        const knowledgeBase = await KnowledgeBase.open(config, silentLogger);
        const app = await buildApp({ config, knowledgeBase, components: await postgresComponents(config, silentLogger, knowledgeBase) });
        return app;
      }),
    );
    const [first, second] = nodes as [FastifyInstance, FastifyInstance];
    const json = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const response = await app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) }) });
      return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
    };
    const embedderOf = async (app: FastifyInstance) =>
      ((await json(app, 'GET', '/v1/collections')).body['collections'] as { name: string; embedder?: string }[]).find((item) => item.name === 'manuals')?.embedder;
    try {
      assert.equal((await json(first, 'POST', '/v1/collections', { name: 'manuals', settings: { embedder: 'builtin' } })).status, 201);
      const upload = await json(second, 'POST', '/v1/collections/manuals/documents', { title: 'VPN', text: 'Reset the VPN password from the portal; the printer toner is in the spindle room.' });
      assert.equal(upload.status, 202);
      const waitForJob = async (id: string) => {
        for (;;) {
          const job = (await json(first, 'GET', `/v1/jobs/${id}`)).body as { state: string; error?: string };
          if (job.state === 'succeeded' || job.state === 'failed') return job;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      assert.equal((await waitForJob((upload.body['job'] as { id: string }).id)).state, 'succeeded');
      assert.match((await embedderOf(second)) ?? '', /^builtin:/);

      const switched = await json(first, 'POST', '/v1/collections/manuals/embedder', { embedder: 'transformers', embeddingModel: 'test/tiny-bert' });
      assert.equal(switched.status, 202, JSON.stringify(switched.body));
      const job = await waitForJob((switched.body['job'] as { id: string }).id);
      assert.equal(job.state, 'succeeded', job.error);
      // Both nodes answer with the new model: the one whose worker switched at once, the other after its next check.
      const started = Date.now();
      for (const app of [first, second]) {
        while (!/tiny-bert/.test((await embedderOf(app)) ?? '')) {
          assert.ok(Date.now() - started < 5_000, 'the other node did not follow the switch within 5 seconds');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const search = await json(app, 'POST', '/v1/search', { query: 'vpn password reset', collection: 'manuals' });
        assert.equal(search.status, 200, JSON.stringify(search.body));
        assert.deepEqual(
          (search.body['results'] as { source: string }[]).map((result) => result.source),
          ['VPN.txt'],
        );
      }
      // The collection's schema now keeps the new model's vectors; no staging or retired schema is left behind.
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ value: string }>(`SELECT value FROM kb_manuals.meta WHERE key = 'embedder_id'`);
        assert.match(rows[0]!.value, /tiny-bert/);
        const leftovers = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'kb\\_\\_%' AND nspname != 'kb__shared'`);
        assert.deepEqual(leftovers.rows, []);
      } finally {
        await client.end();
      }
    } finally {
      for (const app of nodes) await app.close();
    }
  });
});
