import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { KeyStore } from '../../src/keys/key-store.ts';
import type { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const kb = path.resolve('bin/kb.js');
const runKb = (args: string[], environment: Record<string, string>) => spawnSync(process.execPath, [kb, ...args], { encoding: 'utf8', env: { ...process.env, ...environment }, timeout: 60_000 });

describe('kb keys', () => {
  it('creates a key shown once and stored hashed, lists and revokes it', () => {
    const dataDir = temporaryDirectory();
    const created = runKb(['keys', 'create', '--scope', 'query', '--label', 'crm', '--json'], { KB_DATA_DIR: dataDir });
    assert.equal(created.status, 0, created.stderr);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    assert.match(key, /^kb_query_/);
    const store = new KeyStore(dataDir);
    assert.equal(store.match(key)?.id, id);
    assert.ok(!JSON.stringify(store.all()).includes(key), 'the key itself is not stored');
    const listed = runKb(['keys', 'list', '--json'], { KB_DATA_DIR: dataDir });
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string; label: string }[]).map((item) => [item.id, item.label]),
      [[id, 'crm']],
    );
    assert.equal(runKb(['keys', 'revoke', id], { KB_DATA_DIR: dataDir }).status, 0);
    assert.equal(store.match(key), undefined);
    assert.equal(runKb(['keys', 'revoke', id], { KB_DATA_DIR: dataDir }).status, 1);
    const widgetWithoutOrigins = runKb(['keys', 'create', '--scope', 'widget'], { KB_DATA_DIR: dataDir });
    assert.equal(widgetWithoutOrigins.status, 2);
    assert.match(widgetWithoutOrigins.stderr, /needs --origins/);
  });

  it('refuses to listen on a non-loopback interface without an admin key, unless started as a demo', () => {
    const dataDir = temporaryDirectory();
    const refused = runKb(['serve'], { KB_DATA_DIR: dataDir, HOST: '0.0.0.0', PORT: '0' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /refusing to listen on 0\.0\.0\.0 without an admin key/);
  });
});

describe('scopes, revocation and admin routes over HTTP', () => {
  let knowledgeBase: KnowledgeBase;
  let app: FastifyInstance;
  let base: string;
  let keys: KeyStore;
  let admin: string;
  let query: string;
  let widget: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    query = keys.create({ scope: 'query' }).key;
    widget = keys.create({ scope: 'widget', origins: ['https://portal.example'] }).key;
    knowledgeBase = await corpusKnowledgeBase();
    app = await buildApp({ config: testConfig({ KB_DATA_DIR: dataDir, KB_WIDGET_KEYS: '' }), knowledgeBase, keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const call = (method: string, url: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(base + url, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('once keys exist, nothing under /v1 but health works without one', async () => {
    assert.equal((await call('POST', '/v1/search', undefined, { query: 'vpn' })).status, 401);
    assert.equal((await call('GET', '/healthz', undefined)).status, 200);
  });

  it('lets query keys ask but not administer, and admin keys do both', async () => {
    assert.equal((await call('POST', '/v1/search', query, { query: 'vpn' })).status, 200);
    const asked = await call('POST', '/v1/ask', query, { question: 'How long can a VPN session last?' });
    const { answerId } = (await asked.json()) as { answerId: string };
    assert.equal((await call('POST', '/v1/feedback', query, { answerId, rating: 'up' })).status, 201);
    const forbidden = await call('GET', '/v1/feedback', query);
    assert.equal(forbidden.status, 403);
    assert.match(((await forbidden.json()) as { error: { message: string } }).error.message, /needs an admin key/);
    const listed = await call('GET', '/v1/feedback?limit=10', admin);
    assert.equal(listed.status, 200);
    const { feedback } = (await listed.json()) as { feedback: { answerId: string; rating: string; question: string }[] };
    assert.deepEqual(
      feedback.map((item) => [item.answerId, item.rating, item.question]),
      [[answerId, 'up', 'How long can a VPN session last?']],
    );
    assert.equal((await call('GET', '/v1/feedback?limit=0', admin)).status, 400);
  });

  it('keeps a conversation log the admin filters by refusal, confidence, feedback and date', async () => {
    const ask = async (question: string) => ((await (await call('POST', '/v1/ask', query, { question })).json()) as { answerId: string; confidence: number }).answerId;
    const since = new Date().toISOString();
    const answered = await ask('What does fault code E-104 mean on the HL-400 lathe?');
    const refused = await ask('What is the price of a Boeing 747 wing?');
    const disliked = await ask('How do I reset my VPN password?');
    assert.equal((await call('POST', '/v1/feedback', query, { answerId: disliked, rating: 'down', comment: 'wrong steps' })).status, 201);
    type Listed = {
      conversations: { id: string; question: string; kind?: string; confidence?: number; sources?: { source: string; page?: number }[]; rating?: string; comment?: string; collection?: string }[];
      total: number;
    };
    const list = async (filters: string) => {
      const response = await call('GET', `/v1/conversations?since=${encodeURIComponent(since)}&${filters}`, admin);
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as Listed;
    };
    const all = await list('limit=50');
    assert.deepEqual(
      all.conversations.map((entry) => entry.id),
      [disliked, refused, answered],
      'newest first',
    );
    const lathe = all.conversations[2]!;
    assert.equal(lathe.kind, 'answer');
    assert.equal(lathe.collection, 'default');
    assert.ok(lathe.confidence! >= 0.5 && lathe.sources!.some((source) => source.source.includes('cnc-lathe') && source.page !== undefined), JSON.stringify(lathe));
    assert.deepEqual(
      (await list('refused=true')).conversations.map((entry) => [entry.id, entry.kind, entry.sources]),
      [[refused, 'not_found', []]],
    );
    assert.deepEqual(
      (await list('rating=down')).conversations.map((entry) => [entry.id, entry.rating, entry.comment]),
      [[disliked, 'down', 'wrong steps']],
    );
    assert.deepEqual(
      (await list('confidenceBelow=0.5')).conversations.map((entry) => entry.id),
      [refused],
    );
    const paged = await list('limit=1&offset=1');
    assert.deepEqual([paged.conversations.map((entry) => entry.id), paged.total], [[refused], 3]);
    assert.equal((await list(`until=${encodeURIComponent(since)}`)).total, 0);
    assert.equal((await call('GET', '/v1/conversations', query)).status, 403);
    assert.equal((await call('GET', '/v1/conversations?refused=maybe', admin)).status, 400);
    assert.equal((await call('GET', '/v1/conversations?since=yesterday', admin)).status, 400);
  });

  it('groups refused questions into knowledge gaps by what they ask, largest first', async () => {
    const since = new Date().toISOString();
    for (const question of [
      'How do I connect a Linux laptop to the VPN?',
      'VPN on a Linux laptop: how to connect?',
      'Linux laptop VPN connection',
      'What is the price of a Boeing 747 wing?',
      '公司班车几点发车？',
    ])
      await call('POST', '/v1/ask', query, { question });
    const response = await call('GET', `/v1/knowledge-gaps?since=${encodeURIComponent(since)}`, admin);
    assert.equal(response.status, 200, await response.clone().text());
    const { gaps } = (await response.json()) as { gaps: { question: string; count: number; refused: number; examples: { question: string }[] }[] };
    assert.deepEqual(gaps[0] && [gaps[0].count, gaps[0].question], [3, 'Linux laptop VPN connection'], JSON.stringify(gaps));
    assert.equal(gaps[0]!.examples.length, 3);
    assert.deepEqual(
      gaps.slice(1).map((gap) => [gap.question, gap.count]),
      [
        ['公司班车几点发车？', 1],
        ['What is the price of a Boeing 747 wing?', 1],
      ],
    );
    assert.equal((await call('GET', '/v1/knowledge-gaps', query)).status, 403);
  });

  it('turns a thumbs-down answer into a curated answer given for the same and a paraphrased question', async () => {
    type Asked = { answerId: string; answer: string; answeredBy: string; citations: { source: string }[] };
    const ask = async (question: string) => (await (await call('POST', '/v1/ask', query, { question })).json()) as Asked;
    const wrong = await ask('How do I reset my VPN password?');
    assert.notEqual(wrong.answeredBy, 'curated');
    await call('POST', '/v1/feedback', query, { answerId: wrong.answerId, rating: 'down', comment: 'outdated' });
    const corrected = 'Reset it yourself on the self-service portal under Account → VPN, or call extension 4242.';
    const promoted = await call('POST', '/v1/collections/default/curated-answers', admin, { fromAnswerId: wrong.answerId, answer: corrected });
    assert.equal(promoted.status, 201, await promoted.clone().text());
    const { curatedAnswer } = (await promoted.json()) as { curatedAnswer: { id: string; question: string; sources: unknown[]; fromAnswerId: string } };
    assert.deepEqual([curatedAnswer.question, curatedAnswer.fromAnswerId], ['How do I reset my VPN password?', wrong.answerId]);
    assert.ok(curatedAnswer.sources.length > 0, 'the logged answer’s sources come along');

    for (const question of ['How do I reset my VPN password?', 'How can I reset the VPN password?']) {
      const answer = await ask(question);
      assert.deepEqual([answer.answeredBy, answer.answer], ['curated', corrected], question);
      assert.ok(answer.citations.length > 0);
    }
    assert.notEqual((await ask('How do I reset my Windows domain password?')).answeredBy, 'curated');
    // Streamed too, as the widget asks.
    const streamed = await (await call('POST', '/v1/ask', query, { question: 'how can i reset the vpn password', stream: true })).text();
    assert.match(streamed, /event: done\ndata: .*"answeredBy":"curated"/);

    const listed = (await (await call('GET', '/v1/collections/default/curated-answers', admin)).json()) as { curatedAnswers: { id: string }[] };
    assert.deepEqual(
      listed.curatedAnswers.map((entry) => entry.id),
      [curatedAnswer.id],
    );
    const edited = await call('PUT', `/v1/collections/default/curated-answers/${curatedAnswer.id}`, admin, { question: 'How do I reset my VPN password?', answer: 'Call extension 4242.' });
    assert.equal(edited.status, 200);
    assert.equal((await ask('How do I reset my VPN password?')).answer, 'Call extension 4242.');
    assert.equal((await call('POST', '/v1/collections/default/curated-answers', admin, { fromAnswerId: 'no-such-answer' })).status, 404);
    assert.equal((await call('POST', '/v1/collections/default/curated-answers', admin, { question: 'only a question' })).status, 400);
    assert.equal((await call('POST', '/v1/collections/default/curated-answers', query, { question: 'q', answer: 'a' })).status, 403);
    assert.equal((await call('DELETE', `/v1/collections/default/curated-answers/${curatedAnswer.id}`, admin)).status, 204);
    assert.equal((await call('DELETE', `/v1/collections/default/curated-answers/${curatedAnswer.id}`, admin)).status, 404);
    assert.notEqual((await ask('How do I reset my VPN password?')).answeredBy, 'curated');
  });

  it('uses a stored widget key only to mint sessions from its origins', async () => {
    assert.equal((await call('POST', '/v1/search', widget, { query: 'vpn' })).status, 403);
    const minted = await call('POST', '/v1/widget/session', undefined, { key: widget }, { origin: 'https://portal.example' });
    assert.equal(minted.status, 201);
    const { token } = (await minted.json()) as { token: string };
    assert.equal((await call('POST', '/v1/search', token, { query: 'vpn' }, { origin: 'https://portal.example' })).status, 200);
    assert.equal((await call('GET', '/v1/feedback', token, undefined, { origin: 'https://portal.example' })).status, 403, 'a session is not an admin');
    assert.equal((await call('POST', '/v1/widget/session', undefined, { key: widget }, { origin: 'https://other.example' })).status, 403);
  });

  it('stops accepting a key as soon as it is revoked, without a restart', async () => {
    const { key, record } = keys.create({ scope: 'query' });
    assert.equal((await call('POST', '/v1/search', key, { query: 'vpn' })).status, 200);
    keys.revoke(record.id);
    assert.equal((await call('POST', '/v1/search', key, { query: 'vpn' })).status, 401);
  });

  it('manages keys over HTTP: the secret shown once, checked input, revoked at once; not by a key limited to one collection', async () => {
    const created = await call('POST', '/v1/keys', admin, { scope: 'query', label: 'crm bot', groups: ['hr'], rateLimitPerMinute: 120 });
    assert.equal(created.status, 201);
    const { key, record } = (await created.json()) as { key: string; record: { id: string; scope: string; groups: string[]; rateLimitPerMinute: number } };
    assert.match(key, /^kb_query_/);
    assert.deepEqual([record.scope, record.groups, record.rateLimitPerMinute], ['query', ['hr'], 120]);
    const listed = await (await call('GET', '/v1/keys', admin)).text();
    assert.ok(listed.includes(record.id) && !listed.includes(key) && !listed.includes('"hash"'), 'listed by id, never with the secret or its hash');
    assert.equal((await call('POST', '/v1/search', key, { query: 'vpn' })).status, 200);
    assert.equal((await call('DELETE', `/v1/keys/${record.id}`, admin)).status, 204);
    assert.equal((await call('POST', '/v1/search', key, { query: 'vpn' })).status, 401);
    assert.equal((await call('DELETE', '/v1/keys/ffffffffffff', admin)).status, 404);
    const refusals: [unknown, RegExp][] = [
      [{ scope: 'widget' }, /needs the page origins/],
      [{ scope: 'widget', origins: ['https://portal.example/path'] }, /an origin is like/],
      [{ scope: 'query', origins: ['https://portal.example'] }, /only widget keys/],
      [{ scope: 'root' }, /scope/],
      [{ scope: 'query', rateLimitPerMinute: 0 }, /rateLimitPerMinute/],
    ];
    for (const [body, message] of refusals) {
      const refused = await call('POST', '/v1/keys', admin, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, message);
    }
    assert.equal((await call('GET', '/v1/keys', query)).status, 403);
    const bound = keys.create({ scope: 'admin', collection: 'default' }).key;
    assert.equal((await call('POST', '/v1/keys', bound, { scope: 'admin' })).status, 403, 'a key limited to one collection cannot mint an unlimited one');
  });

  it('opens console sessions for admin keys only: an HttpOnly SameSite=Strict cookie, Secure over HTTPS, ended by sign-out or by revoking the key', async () => {
    const signIn = (key: string, headers: Record<string, string> = {}) => call('POST', '/v1/console/session', undefined, { key }, headers);
    for (const refused of [query, widget, keys.create({ scope: 'admin', collection: 'default' }).key, 'kb_admin_made-up']) assert.equal((await signIn(refused)).status, 401);
    assert.deepEqual(await (await call('GET', '/v1/console/session', undefined)).json(), { signedIn: false });

    const { key: consoleKey, record } = keys.create({ scope: 'admin', label: 'console' });
    const opened = await signIn(consoleKey);
    assert.equal(opened.status, 200);
    const setCookie = opened.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^kb_console=kbc1\.[^;]+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken, keyId } = (await opened.json()) as { csrfToken: string; keyId: string };
    assert.equal(keyId, record.id);
    const withSession = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => call(method, url, undefined, body, { cookie, ...headers });
    assert.equal((await withSession('GET', '/v1/jobs')).status, 200);
    assert.equal((await withSession('POST', '/v1/collections', { name: 'console-made' })).status, 403, 'no CSRF token');
    assert.equal((await withSession('POST', '/v1/collections', { name: 'console-made' }, { 'x-csrf-token': csrfToken })).status, 201);
    // Another session's token does not do.
    const other = (await (await signIn(consoleKey)).json()) as { csrfToken: string };
    assert.equal((await withSession('DELETE', '/v1/collections/console-made', undefined, { 'x-csrf-token': other.csrfToken })).status, 403);
    assert.equal((await withSession('DELETE', '/v1/collections/console-made', undefined, { 'x-csrf-token': csrfToken })).status, 204);

    // Behind a TLS-terminating proxy (a trusted hop saying https), the cookie is Secure.
    const secureApp = await buildApp({ config: testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_TRUST_PROXY: '1' }), knowledgeBase, keys, closeKnowledgeBase: false });
    try {
      const behindProxy = await secureApp.inject({ method: 'POST', url: '/v1/console/session', headers: { 'x-forwarded-proto': 'https' }, payload: { key: consoleKey } });
      assert.match(String(behindProxy.headers['set-cookie']), /; Secure; SameSite=Strict$/);
    } finally {
      await secureApp.close();
    }

    keys.revoke(record.id);
    assert.equal((await withSession('GET', '/v1/jobs')).status, 401, 'revoking the key ends its sessions');
    const { key: second } = keys.create({ scope: 'admin' });
    const again = (await signIn(second)).headers.get('set-cookie')!.split(';')[0]!;
    const csrf = ((await (await call('GET', '/v1/console/session', undefined, undefined, { cookie: again })).json()) as { csrfToken: string }).csrfToken;
    assert.equal((await call('DELETE', '/v1/console/session', undefined, undefined, { cookie: again, 'x-csrf-token': csrf })).status, 204);
    assert.equal((await call('GET', '/v1/jobs', undefined, undefined, { cookie: again })).status, 401, 'signed out');
  });

  it('exposes Prometheus metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /kb_http_requests_total\{method="POST",route="\/v1\/search",status="200"\} \d+/);
    assert.match(text, /kb_answers_total\{answered_by="extractive",fallback="no"\} \d+/);
    assert.match(text, /kb_index_documents 33/);
    assert.match(text, /kb_stage_duration_seconds_bucket\{le="0.001",stage="retrieve"\}/);
  });
});
