import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { FeedbackStore } from '../../src/feedback/feedback-store.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import type { KnowledgeBase } from '../../src/knowledge-base.ts';
import { SessionTokens } from '../../src/server/access/session-token.ts';
import { buildApp } from '../../src/server/app.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const API_KEY = 'sk-test-0123456789abcdef';
const PAGE = 'https://helpdesk.example.com';

describe('session tokens', () => {
  it('verifies its own tokens and rejects tampered, foreign and expired ones', () => {
    const tokens = new SessionTokens('a'.repeat(32), 60);
    const { token, claims } = tokens.issue({ key: 'pk_a', origin: PAGE, user: 'u-1' });
    assert.deepEqual(tokens.verify(token), claims);
    const [prefix, payload, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, origin: 'https://evil.example' })).toString('base64url');
    assert.equal(tokens.verify(`${prefix}.${forged}.${signature}`), undefined);
    assert.equal(new SessionTokens('b'.repeat(32), 60).verify(token), undefined);
    assert.equal(tokens.verify(token, Date.now() + 61_000), undefined);
    assert.equal(tokens.verify(`${prefix}.${payload}`), undefined);
    assert.equal(tokens.verify('kbs1.%%%.x'), undefined);
  });
});

describe('access rules, rate limits and feedback over HTTP', () => {
  let knowledgeBase: KnowledgeBase;
  let app: FastifyInstance;
  let base: string;
  let feedback: FeedbackStore;

  before(async () => {
    knowledgeBase = await corpusKnowledgeBase();
    feedback = new FeedbackStore(temporaryDirectory());
    const config = testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_API_KEYS: API_KEY, KB_WIDGET_KEYS: `pk_help=${PAGE}`, KB_RATE_LIMIT_PER_MINUTE: '5' });
    app = await buildApp({ config, knowledgeBase, feedback });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    feedback.close();
  });

  const ask = (headers: Record<string, string>) =>
    fetch(`${base}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ question: 'How long can a VPN session last?' }) });

  async function session(origin: string, key = 'pk_help'): Promise<Response> {
    return fetch(`${base}/v1/widget/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ key, user: 'employee-42' }) });
  }

  it('needs a key once keys exist, refuses wrong keys, and refuses API keys from browser origins', async () => {
    assert.equal((await ask({})).status, 401);
    assert.equal((await ask({ authorization: 'Bearer wrong-key-0123456789' })).status, 401);
    assert.equal((await ask({ authorization: `Bearer ${API_KEY}` })).status, 200);
    const fromPage = await ask({ authorization: `Bearer ${API_KEY}`, origin: PAGE });
    assert.equal(fromPage.status, 403);
    assert.match(((await fromPage.json()) as { error: { message: string } }).error.message, /cannot be used from a browser/);
  });

  it('mints a session token only for the origins of the key, and the token only works from that origin', async () => {
    assert.equal((await session('https://evil.example')).status, 403);
    assert.equal((await session(PAGE, 'pk_unknown')).status, 403);
    const minted = await session(PAGE);
    assert.equal(minted.status, 201);
    assert.equal(minted.headers.get('access-control-allow-origin'), PAGE);
    const { token } = (await minted.json()) as { token: string };
    const ok = await ask({ authorization: `Bearer ${token}`, origin: PAGE });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), PAGE);
    const body = (await ok.json()) as { answerId: string };
    assert.equal((await ask({ authorization: `Bearer ${token}`, origin: 'https://evil.example' })).status, 403);
    assert.equal((await ask({ authorization: `Bearer ${token}` })).status, 403, 'not without the Origin header either');
    // Feedback on that answer, with the same session.
    const post = (payload: unknown) =>
      fetch(`${base}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: PAGE }, body: JSON.stringify(payload) });
    assert.equal((await post({ answerId: body.answerId, rating: 'up', comment: 'clear' })).status, 201);
    assert.equal((await post({ answerId: '00000000-0000-4000-8000-000000000000', rating: 'up' })).status, 404);
    assert.equal((await post({ answerId: body.answerId, rating: 'meh' })).status, 400);
    const [record] = feedback.listFeedback();
    assert.deepEqual([record?.answerId, record?.rating, record?.comment], [body.answerId, 'up', 'clear']);
  });

  it('allows CORS only for configured origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/v1/ask`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    assert.equal((await preflight(PAGE)).headers.get('access-control-allow-origin'), PAGE);
    assert.equal((await preflight('https://evil.example')).headers.get('access-control-allow-origin'), null);
  });

  it('limits each session and key per minute with 429 and Retry-After', async () => {
    const minted = (await (await session(PAGE)).json()) as { token: string };
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let code = '';
    for (let attempt = 0; attempt < 7; attempt++) {
      const response = await fetch(`${base}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${minted.token}`, origin: PAGE },
        body: JSON.stringify({ query: 'vpn' }),
      });
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        code = ((await response.json()) as { error: { code: string } }).error.code;
      } else await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert.ok(Number(retryAfter) > 0);
    assert.equal(code, 'KB_ERR_RATE_LIMITED');
    // Another session has its own budget.
    const other = (await (await session(PAGE)).json()) as { token: string };
    const fresh = await fetch(`${base}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}`, origin: PAGE },
      body: JSON.stringify({ query: 'vpn' }),
    });
    assert.equal(fresh.status, 200);
  });

  it('also limits one client address, however many sessions it mints', async () => {
    const { AddressLimit } = await import('../../src/server/access/access.ts');
    const limit = new AddressLimit(3);
    const now = Date.UTC(2026, 0, 1, 0, 0, 10);
    assert.deepEqual(
      [1, 2, 3].map(() => limit.take('10.0.0.1', now)),
      [0, 0, 0],
    );
    assert.equal(limit.take('10.0.0.1', now), 50, 'over the limit: wait until the minute ends');
    assert.equal(limit.take('10.0.0.2', now), 0, 'another address has its own budget');
    assert.equal(limit.take('10.0.0.1', now + 60_000), 0, 'a new minute starts afresh');
    const strict = await buildApp({
      config: testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_WIDGET_KEYS: `pk_help=${PAGE}`, KB_RATE_LIMIT_PER_IP_PER_MINUTE: '4' }),
      knowledgeBase,
      closeKnowledgeBase: false,
    });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt++) {
        const response = await strict.inject({ method: 'POST', url: '/v1/widget/session', headers: { origin: PAGE }, payload: { key: 'pk_help' } });
        statuses.push(response.statusCode);
        if (response.statusCode === 429) assert.ok(Number(response.headers['retry-after']) > 0);
      }
      assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
      // Behind a proxy not trusted, every client is the proxy: the forwarded address does not get a budget of its own.
      const forwarded = await strict.inject({ method: 'POST', url: '/v1/widget/session', headers: { origin: PAGE, 'x-forwarded-for': '203.0.113.9' }, payload: { key: 'pk_help' } });
      assert.equal(forwarded.statusCode, 429);
    } finally {
      await strict.close();
    }
    // KB_TRUST_PROXY=1 (one load balancer in front): each client behind it has its own budget, and a client cannot
    // pick its address by sending the header itself through the proxy (only the proxy's hop is trusted).
    const proxied = await buildApp({
      config: testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_WIDGET_KEYS: `pk_help=${PAGE}`, KB_RATE_LIMIT_PER_IP_PER_MINUTE: '2', KB_TRUST_PROXY: '1' }),
      knowledgeBase,
      closeKnowledgeBase: false,
    });
    try {
      const mint = async (forwardedFor: string) =>
        (await proxied.inject({ method: 'POST', url: '/v1/widget/session', headers: { origin: PAGE, 'x-forwarded-for': forwardedFor }, payload: { key: 'pk_help' } })).statusCode;
      assert.deepEqual([await mint('203.0.113.1'), await mint('203.0.113.1'), await mint('203.0.113.1'), await mint('203.0.113.2')], [201, 201, 429, 201]);
      assert.equal(await mint('198.51.100.7, 203.0.113.1'), 429, 'the address the proxy saw counts, not the one the client wrote');
    } finally {
      await proxied.close();
    }
    assert.throws(() => testConfig({ KB_TRUST_PROXY: 'yes please' }), /KB_TRUST_PROXY.*number of hops/);
  });

  // Regression: admin keys were held to the query keys' 60 a minute (and to the per-address limit), and no key could
  // be given its own limit.
  it('holds admin keys to their own higher limit, a key created with --rate-limit to its own, and exempts keys from the address limit', async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    const admin = keys.create({ scope: 'admin' }).key;
    const query = keys.create({ scope: 'query' }).key;
    const own = keys.create({ scope: 'query', rateLimitPerMinute: 8 }).key;
    assert.throws(() => keys.create({ scope: 'query', rateLimitPerMinute: 0 }), /whole number of requests per minute/);
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_RATE_LIMIT_PER_MINUTE: '3', KB_RATE_LIMIT_PER_IP_PER_MINUTE: '5', KB_RATE_LIMIT_ADMIN_PER_MINUTE: '12' });
    const limited = await buildApp({ config, knowledgeBase, closeKnowledgeBase: false, keys });
    const statuses = async (key: string, count: number) => {
      const result: number[] = [];
      for (let attempt = 0; attempt < count; attempt++) {
        result.push((await limited.inject({ method: 'POST', url: '/v1/search', headers: { authorization: `Bearer ${key}` }, payload: { query: 'vpn' } })).statusCode);
      }
      return result;
    };
    try {
      assert.deepEqual(await statuses(query, 4), [200, 200, 200, 429], 'a query key has the common limit');
      assert.deepEqual(await statuses(own, 9), [...Array(8).fill(200), 429], 'a key created with its own limit has that one');
      assert.deepEqual(await statuses(admin, 13), [...Array(12).fill(200), 429], 'an admin key has the admin limit, beyond the per-address limit of 5');
    } finally {
      await limited.close();
    }
  });

  it('takes any placeholder key from a local client while no key exists, and only real keys once one does', async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    const open = await buildApp({ config: testConfig({ KB_DATA_DIR: dataDir }), knowledgeBase, closeKnowledgeBase: false, keys });
    try {
      const ask = (authorization: string, origin?: string) =>
        open.inject({ method: 'POST', url: '/v1/ask', headers: { authorization, ...(origin ? { origin } : {}) }, payload: { question: 'How do I fix VPN error 809?' } });
      assert.equal((await ask('Bearer local')).statusCode, 200, 'the OpenAI SDK needs some key: a placeholder is served like no key');
      assert.equal((await ask('Bearer local', PAGE)).statusCode, 401, 'never from a browser page');
      keys.create({ scope: 'query' });
      const refused = await ask('Bearer local');
      assert.equal(refused.statusCode, 401);
      assert.match(refused.body, /not valid/);
    } finally {
      await open.close();
    }
  });
});

describe('OpenAI-compatible endpoint with the official openai client', () => {
  let knowledgeBase: KnowledgeBase;
  let app: FastifyInstance;
  let client: OpenAI;

  before(async () => {
    knowledgeBase = await corpusKnowledgeBase();
    const config = testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_API_KEYS: API_KEY, KB_RATE_LIMIT_PER_MINUTE: '1000' });
    app = await buildApp({ config, knowledgeBase });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });
  after(() => app.close());

  it('lists the knowledge base as a model', async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['kb-default'],
    );
  });

  it('answers without streaming, with [n] markers and citations', async () => {
    const completion = await client.chat.completions.create({ model: 'kb-default', messages: [{ role: 'user', content: 'What torque for an M12 bolt of property class 10.9?' }] });
    const content = completion.choices[0]!.message.content ?? '';
    assert.match(content, /120/);
    assert.match(content, /\[\d\]/);
    const citations = (completion as unknown as { citations: { n: number; source: string }[] }).citations;
    assert.equal(citations[0]?.source, 'docs-corpus/maintenance/torque-specifications.md');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
  });

  it('streams, with the citations on the last chunk, and follows the conversation', async () => {
    const stream = await client.chat.completions.create({
      model: 'kb-default',
      stream: true,
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: '注塑机报警 M-05 是什么意思？' },
        { role: 'assistant', content: 'M-05 表示油温过高。[1]' },
        { role: 'user', content: '那 M-12 呢？' },
      ],
    });
    let text = '';
    let chunks = 0;
    let citations: { source: string }[] = [];
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      const extra = (chunk as unknown as { citations?: { source: string }[] }).citations;
      if (extra) citations = extra;
    }
    assert.ok(chunks > 3, `${chunks} chunks`);
    assert.match(text, /模具保护/);
    assert.equal(citations[0]?.source, 'docs-corpus/manuals/注塑机-IM-160-操作手册.pdf');
  });

  // Regression: stream_options.include_usage was ignored.
  it('ends a stream with a usage chunk when stream_options.include_usage is set, and only then', async () => {
    const usageChunks = async (includeUsage: boolean) => {
      const stream = await client.chat.completions.create({
        model: 'kb-default',
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: 'user', content: 'How do I fix VPN error 809?' }],
      });
      const seen: { choices: number; usage: unknown }[] = [];
      for await (const chunk of stream) seen.push({ choices: chunk.choices.length, usage: chunk.usage });
      return seen;
    };
    const withUsage = await usageChunks(true);
    const last = withUsage.at(-1)!;
    assert.equal(last.choices, 0, 'the usage chunk has no choices');
    const usage = last.usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    assert.ok(
      withUsage.slice(0, -1).every((chunk) => chunk.usage === null),
      'the other chunks carry usage: null',
    );
    assert.ok((await usageChunks(false)).every((chunk) => chunk.usage === undefined && chunk.choices === 1));
  });

  it('gives a curated answer to the OpenAI clients as well, streamed or not', async () => {
    const created = await fetch(`${client.baseURL.replace(/\/v1$/, '')}/v1/collections/default/curated-answers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'Where do I return a broken badge?', answer: 'At the lobby desk, building A.' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const completion = await client.chat.completions.create({ model: 'kb-default', messages: [{ role: 'user', content: 'Where can I return my broken badge?' }] });
    assert.equal(completion.choices[0]!.message.content, 'At the lobby desk, building A.');
    const stream = await client.chat.completions.create({ model: 'kb-default', stream: true, messages: [{ role: 'user', content: 'broken badge: where do I return it?' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'At the lobby desk, building A.');
  });

  it('refuses an unknown model and a missing key the way OpenAI clients expect', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 404);
    const anonymous = new OpenAI({ baseURL: client.baseURL, apiKey: 'not-a-key-0123456789', maxRetries: 0 });
    await assert.rejects(anonymous.models.list(), (error: unknown) => error instanceof OpenAI.APIError && error.status === 401);
  });
});
