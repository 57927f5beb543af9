import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { signUserToken } from '../../src/server/access/session-token.ts';
import { buildApp } from '../../src/server/app.ts';
import { LocalStore, STORE_FORMAT_VERSION } from '../../src/store/local-store.ts';
import { READ_EVERYTHING, readScopeForGroups } from '../../src/retrieve/read-scope.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const USER_SECRET = 'u'.repeat(40);
const PAGE = 'https://portal.example';

describe('document metadata and reader groups', () => {
  let app: FastifyInstance;
  let base: string;
  const keys: Record<string, string> = {};

  before(async () => {
    const dataDir = temporaryDirectory();
    const store = new KeyStore(dataDir);
    keys['admin'] = store.create({ scope: 'admin' }).key;
    keys['public'] = store.create({ scope: 'query' }).key;
    keys['hr'] = store.create({ scope: 'query', groups: ['hr'] }).key;
    keys['widget'] = store.create({ scope: 'widget', origins: [PAGE] }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_USER_TOKEN_SECRET: USER_SECRET, KB_WIDGET_KEYS: '' });
    const knowledgeBase = await KnowledgeBase.open(config, silentLogger);
    app = await buildApp({ config, knowledgeBase, keys: store });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const add = async (body: unknown) => {
      const response = await fetch(`${base}/v1/collections/default/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys['admin']}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 202, await response.clone().text());
    };
    await add({
      title: 'Salary bands 2026',
      text: 'Salary band S3 ranges from 9,000 to 12,000 per month.',
      metadata: { tags: ['pay'], department: 'HR', groups: ['hr'], url: 'https://intranet.example/hr/salary' },
    });
    await add({ title: 'Canteen hours', text: 'The canteen opens at 11:30; salary day lunch is free.', metadata: { tags: ['food'], department: 'Facilities' } });
    await (app as unknown as { jobs: { idle(): Promise<void> } }).jobs.idle();
  });
  after(() => app.close());

  const search = async (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}/v1/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: 'salary band', ...body }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { results: { title: string }[] }).results.map((result) => result.title);
  };

  it('lets each reader see public documents and those of its groups only', async () => {
    assert.deepEqual((await search(keys['admin']!, {})).sort(), ['Canteen hours', 'Salary bands 2026']);
    assert.deepEqual(await search(keys['public']!, {}), ['Canteen hours']);
    assert.deepEqual((await search(keys['hr']!, {})).sort(), ['Canteen hours', 'Salary bands 2026']);
    const asked = (await (
      await fetch(`${base}/v1/ask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys['public']}`, 'content-type': 'application/json' },
        body: JSON.stringify({ question: 'What is the range of salary band S3?' }),
      })
    ).json()) as { answer: string; citations: { title: string }[] };
    assert.ok(!JSON.stringify(asked).includes('12,000'), 'nothing of the restricted document leaks into an answer');
  });

  // Regression: /v1/chat/completions applied no reader groups, so a key without groups read restricted documents.
  it('keeps a restricted document out of every read route for a key outside its group, and in for one inside', async () => {
    const secret = '12,000';
    const post = async (key: string, route: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}${route}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      assert.equal(response.status, 200, `${route}: ${await response.clone().text()}`);
      return response.text();
    };
    const question = 'What is the range of salary band S3?';
    const routes: [string, (key: string, headers?: Record<string, string>) => Promise<string>][] = [
      ['search', (key, headers) => post(key, '/v1/search', { query: question }, headers)],
      ['search over several collections', (key, headers) => post(key, '/v1/search', { query: question, collections: ['default'] }, headers)],
      ['ask', (key, headers) => post(key, '/v1/ask', { question }, headers)],
      ['ask streamed', (key, headers) => post(key, '/v1/ask', { question, stream: true }, headers)],
      [
        'ask as a follow-up',
        (key, headers) =>
          post(
            key,
            '/v1/ask',
            {
              question: 'And band S3?',
              history: [
                { role: 'user', content: 'Tell me about salary bands' },
                { role: 'assistant', content: 'Which band?' },
              ],
            },
            headers,
          ),
      ],
      ['chat completions', (key, headers) => post(key, '/v1/chat/completions', { model: 'kb-default', messages: [{ role: 'user', content: question }] }, headers)],
      ['chat completions streamed', (key, headers) => post(key, '/v1/chat/completions', { model: 'kb-default', stream: true, messages: [{ role: 'user', content: question }] }, headers)],
    ];
    for (const [name, call] of routes) {
      assert.ok(!(await call(keys['public']!)).includes(secret), `${name}: a key without the group reads the restricted document`);
      assert.ok((await call(keys['hr']!)).includes(secret), `${name}: a key of the group does not read the restricted document`);
    }
    const session = async (user?: string) => {
      const response = await fetch(`${base}/v1/widget/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: PAGE },
        body: JSON.stringify({ key: keys['widget'], ...(user ? { user } : {}) }),
      });
      return ((await response.json()) as { token: string }).token;
    };
    const outsider = await session();
    const insider = await session(signUserToken({ sub: 'alice', groups: ['hr'], exp: Math.floor(Date.now() / 1000) + 600 }, USER_SECRET));
    for (const [name, call] of routes.filter(([name]) => name.startsWith('ask') || name.startsWith('search'))) {
      assert.ok(!(await call(outsider, { origin: PAGE })).includes(secret), `widget ${name}: an anonymous user reads the restricted document`);
      assert.ok((await call(insider, { origin: PAGE })).includes(secret), `widget ${name}: a user of the group does not read the restricted document`);
    }
  });

  it('gives a curated answer citing a restricted document only to readers of its group', async () => {
    const call = async (method: string, route: string, key: string, body?: unknown) => {
      const response = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await response.text();
      return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    };
    const asked = (await call('POST', '/v1/ask', keys['hr']!, { question: 'What is the range of salary band S3?' })) as { answerId: string; citations: { source: string }[] };
    assert.ok(
      asked.citations.some((citation) => citation.source === 'Salary bands 2026.txt'),
      JSON.stringify(asked.citations),
    );
    const created = (await call('POST', '/v1/collections/default/curated-answers', keys['admin']!, { fromAnswerId: asked.answerId, answer: 'S3 pays 9,000 to 12,000 a month.' })) as {
      curatedAnswer: { id: string };
    };
    const inGroup = (await call('POST', '/v1/ask', keys['hr']!, { question: 'What is the range of salary band S3?' })) as { answeredBy: string; answer: string };
    assert.deepEqual([inGroup.answeredBy, inGroup.answer], ['curated', 'S3 pays 9,000 to 12,000 a month.']);
    const outside = (await call('POST', '/v1/ask', keys['public']!, { question: 'What is the range of salary band S3?' })) as { answeredBy: string; answer: string };
    assert.notEqual(outside.answeredBy, 'curated');
    assert.doesNotMatch(outside.answer, /9,000/);
    await call('DELETE', `/v1/collections/default/curated-answers/${created.curatedAnswer.id}`, keys['admin']!);
  });

  it('filters by tags and department', async () => {
    assert.deepEqual(await search(keys['admin']!, { filters: { tags: ['food'] } }), ['Canteen hours']);
    assert.deepEqual(await search(keys['admin']!, { filters: { department: 'HR' } }), ['Salary bands 2026']);
    assert.deepEqual(await search(keys['admin']!, { filters: { tags: ['nothing'] } }), []);
  });

  it('gives a widget user the groups of the end-user token the host page signed', async () => {
    const session = async (user?: string) =>
      fetch(`${base}/v1/widget/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: PAGE }, body: JSON.stringify({ key: keys['widget'], ...(user ? { user } : {}) }) });
    const hrUser = signUserToken({ sub: 'alice', groups: ['hr'], exp: Math.floor(Date.now() / 1000) + 600 }, USER_SECRET);
    const { token } = (await (await session(hrUser)).json()) as { token: string };
    assert.deepEqual((await search(token, {}, { origin: PAGE })).sort(), ['Canteen hours', 'Salary bands 2026']);
    const anonymous = (await (await session()).json()) as { token: string };
    assert.deepEqual(await search(anonymous.token, {}, { origin: PAGE }), ['Canteen hours']);
    const forged = signUserToken({ sub: 'mallory', groups: ['hr'], exp: Math.floor(Date.now() / 1000) + 600 }, 'x'.repeat(40));
    assert.equal((await session(forged)).status, 403);
    const expired = signUserToken({ sub: 'alice', groups: ['hr'], exp: Math.floor(Date.now() / 1000) - 1 }, USER_SECRET);
    assert.equal((await session(expired)).status, 403);
  });

  it('shows metadata, groups and URL on the document', async () => {
    const listed = (await (await fetch(`${base}/v1/collections/default/documents`, { headers: { authorization: `Bearer ${keys['admin']}` } })).json()) as {
      documents: { title: string; metadata?: unknown; groups?: string[]; url?: string }[];
    };
    const salary = listed.documents.find((document) => document.title === 'Salary bands 2026')!;
    assert.deepEqual(salary.metadata, { tags: ['pay'], department: 'HR' });
    assert.deepEqual(salary.groups, ['hr']);
    assert.equal(salary.url, 'https://intranet.example/hr/salary');
  });
});

describe('store format migration', () => {
  it('migrates a format-1 index (no metadata or groups) in place and keeps its documents', async () => {
    const dataDir = temporaryDirectory();
    const embedder = new BuiltinEmbedder();
    const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: dataDir }), silentLogger);
    await knowledgeBase.ingest(['docs-corpus/it']);
    knowledgeBase.close();
    const database = new Database(path.join(dataDir, 'kb.sqlite'));
    database.exec('ALTER TABLE documents DROP COLUMN metadata; ALTER TABLE documents DROP COLUMN groups;');
    database.close();
    const manifestFile = path.join(dataDir, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), formatVersion: 1 }));
    const store = LocalStore.open(dataDir, embedder, { m: 16, efConstruction: 200, efSearch: 100 });
    assert.equal(store.listDocuments().length, 7);
    assert.equal(JSON.parse(readFileSync(manifestFile, 'utf8')).formatVersion, STORE_FORMAT_VERSION);
    assert.equal(store.chunkScope({ read: readScopeForGroups([]) })?.size, store.keywordStatistics().chunkCount, 'migrated documents are public');
    assert.equal(store.checkConsistency().chunksWithoutVector, 0);
    store.close();
  });

  // Format 3 keeps the postings in keywords.bin only; a format-2 index loses its postings table and the keyword index
  // is rebuilt from the chunk text, ranking as before.
  it('migrates a format-2 index (a postings table) and rebuilds the same keyword index from the chunks', async () => {
    const dataDir = temporaryDirectory();
    const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: dataDir }), silentLogger);
    await knowledgeBase.ingest(['docs-corpus/it', 'docs-corpus/hr']);
    const query = new Map([
      ['vpn', 1],
      ['password', 1],
      ['年假', 1],
      ['年', 1],
    ]);
    const parameters = { k1: 0.9, b: 0.4 };
    const before = await knowledgeBase.storage.keywords.search(query, { read: READ_EVERYTHING }, 20, parameters);
    const frequencies = await knowledgeBase.storage.keywords.documentFrequencies(['vpn', '年假']);
    await knowledgeBase.close();
    const database = new Database(path.join(dataDir, 'kb.sqlite'));
    database.exec(
      "CREATE TABLE postings (term TEXT NOT NULL, chunk_id INTEGER NOT NULL, term_frequency INTEGER NOT NULL, PRIMARY KEY (term, chunk_id)) WITHOUT ROWID; INSERT INTO postings VALUES ('vpn', 1, 1);",
    );
    database.close();
    rmSync(path.join(dataDir, 'keywords.bin'));
    const manifestFile = path.join(dataDir, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), formatVersion: 2 }));
    const store = LocalStore.open(dataDir, new BuiltinEmbedder(), { m: 16, efConstruction: 200, efSearch: 100 });
    assert.equal(JSON.parse(readFileSync(manifestFile, 'utf8')).formatVersion, STORE_FORMAT_VERSION);
    const check = new Database(path.join(dataDir, 'kb.sqlite'), { readonly: true });
    assert.equal(check.prepare<[], { count: number }>(`SELECT COUNT(*) AS count FROM sqlite_master WHERE name = 'postings'`).get()?.count, 0);
    check.close();
    assert.deepEqual(store.keywordSearch(query, parameters, 20), before);
    assert.deepEqual(store.documentFrequencies(['vpn', '年假']), frequencies);
    assert.ok(existsSync(path.join(dataDir, 'keywords.bin')), 'the rebuilt index is saved');
    assert.equal(store.checkConsistency().orphanPostings, 0);
    store.close();
  });
});
