// Two API server processes on different ports sharing one database (Debian's PostgreSQL, started by the test): any
// node serves any request. An upload accepted by one is searchable through the other as soon as its job commits, and
// its original is served by both; a key revoked is refused by every node within seconds; a collection created or
// deleted on one is seen by the other; a widget session minted by one is valid on the other; a job whose worker is
// killed with SIGKILL is taken over and finished by the other node; a key's rate limit counts over both nodes, and
// feedback reaches an answer given by the other node; one node restarts under load while the other
// fails no request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { closeDatabasePools } from '../../src/store/postgres-database.ts';
import { POSTGRES_SCHEMA_VERSION } from '../../src/store/postgres-storage.ts';
import { runCli, startServer, type ServerProcess } from '../helpers/child-process.ts';
import { startDebianPostgres } from '../helpers/debian-postgres.ts';
import type { TestPostgres } from '../helpers/postgres.ts';
import { temporaryDirectory } from '../helpers/temp.ts';
import { SHARED_SCHEMA_VERSION } from '../../src/shared-state/postgres.ts';

/** Seconds a node holds a job without renewing it: short here so that a takeover happens within the test. */
const LEASE_SECONDS = 5;

interface JobBody {
  id: string;
  state: string;
  progress: { done: number; total: number };
  files: { name: string; status: string }[];
  worker?: string;
  attempts?: number;
}

describe('several API nodes over one PostgreSQL database', () => {
  let postgres: TestPostgres;
  let environment: Record<string, string>;
  const nodes: ServerProcess[] = [];
  let admin: string;

  const nodeEnvironment = () => ({ ...environment, KB_DATA_DIR: temporaryDirectory(), KB_QUERY_THREADS: '0', KB_LOG_LEVEL: 'info' });
  const cli = (arguments_: string[]) => {
    const result = runCli([...arguments_, '--json'], environment);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as { key: string; id: string };
  };
  const call = async (node: ServerProcess, method: string, route: string, body?: unknown, key = admin, headers: Record<string, string> = {}) => {
    const response = await fetch(`${node.url}${route}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const search = async (node: ServerProcess, query: string, collection = 'default', key = admin) => {
    const { status, body } = await call(node, 'POST', '/v1/search', { query, collection, topK: 3 }, key);
    return { status, sources: status === 200 ? (body['results'] as { source: string }[]).map((result) => result.source) : [] };
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const started = Date.now();
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const finishedJob = (node: ServerProcess, id: string) =>
    waitFor(`job ${id}`, async () => {
      const { body } = await call(node, 'GET', `/v1/jobs/${id}`);
      const job = body as unknown as JobBody;
      return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
    });

  before(async () => {
    postgres = await startDebianPostgres();
    environment = { KB_DATABASE_URL: postgres.url, KB_EMBEDDER: 'builtin', KB_JOB_LEASE_SECONDS: String(LEASE_SECONDS), KB_DATA_DIR: temporaryDirectory() };
    admin = cli(['keys', 'create', '--scope', 'admin', '--rate-limit', '100000000']).key;
    // Started together: both migrate the shared schema at once, under the advisory lock.
    nodes.push(...(await Promise.all([startServer(nodeEnvironment()), startServer(nodeEnvironment())])));
    for (const node of nodes) assert.equal((await fetch(`${node.url}/readyz`)).status, 200, node.output());
  });
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await closeDatabasePools();
    await postgres?.stop();
  });

  it('reports the database and its migration on every node', async () => {
    for (const node of nodes) {
      const ready = (await (await fetch(`${node.url}/readyz`)).json()) as { storage: { backend: string; schemaVersion: number }; sharedState: Record<string, unknown> };
      assert.equal(ready.storage.backend, 'postgresql');
      assert.deepEqual(ready.sharedState, { backend: 'postgresql', schemaVersion: SHARED_SCHEMA_VERSION, expectedSchemaVersion: SHARED_SCHEMA_VERSION, database: 'reachable' });
    }
    const status = runCli(['status', '--json'], environment);
    assert.equal(status.status, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { sharedSchemaVersion: number; collections: { name: string; schemaVersion: number }[] };
    assert.equal(report.sharedSchemaVersion, SHARED_SCHEMA_VERSION);
    assert.deepEqual(
      report.collections.map((collection) => [collection.name, collection.schemaVersion]),
      [['default', POSTGRES_SCHEMA_VERSION]],
    );
  });

  it('searches on one node what was uploaded through the other, and serves its original from both', async () => {
    const [first, second] = nodes as [ServerProcess, ServerProcess];
    const upload = await call(first, 'POST', '/v1/collections/default/documents', {
      title: 'Forklift charging',
      text: 'Forklift batteries charge overnight in bay 7; the charger shows code F-31 when the cell is too warm.',
    });
    assert.equal(upload.status, 202);
    // The job is in the database: the other node reports it too.
    const job = await finishedJob(second, (upload.body['job'] as { id: string }).id);
    assert.equal(job.state, 'succeeded');
    // No waiting: every read goes to the database, so the commit that ended the job made it searchable everywhere.
    assert.deepEqual((await search(second, 'forklift charger code F-31')).sources.slice(0, 1), ['Forklift charging.txt']);
    const documents = await call(second, 'GET', '/v1/collections/default/documents');
    const document = (documents.body['documents'] as { id: string; source: string }[]).find((entry) => entry.source === 'Forklift charging.txt')!;
    for (const node of nodes) {
      const original = await fetch(`${node.url}/v1/collections/default/documents/${document.id}/file`, { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(original.status, 200);
      assert.match(await original.text(), /bay 7/);
    }
  });

  it('refuses a revoked key on every node within seconds, honours a widget session minted by another node, and shares console sessions and their sign-out', async () => {
    const [first, second] = nodes as [ServerProcess, ServerProcess];
    const query = cli(['keys', 'create', '--scope', 'query']);
    // A key created elsewhere is known to both nodes within a second or so. Known = refused for its body (400, checked
    // before the rate limit counts) rather than for the key (401).
    const status = async (node: ServerProcess) => (await call(node, 'POST', '/v1/search', {}, query.key)).status;
    await waitFor('the new key on both nodes', async () => ((await status(first)) === 400 && (await status(second)) === 400 ? true : undefined), 10_000);
    const revoked = runCli(['keys', 'revoke', query.id], environment);
    assert.equal(revoked.status, 0, revoked.stderr);
    const revokedAt = Date.now();
    await waitFor('the revoked key refused on both nodes', async () => ((await status(first)) === 401 && (await status(second)) === 401 ? true : undefined), 10_000);
    assert.ok(Date.now() - revokedAt < 5_000, `refused by both ${Date.now() - revokedAt} ms after the revocation`);

    const origin = 'https://portal.example';
    const widget = cli(['keys', 'create', '--scope', 'widget', '--origins', origin]);
    const session = await waitFor('a widget session', async () => {
      const minted = await call(first, 'POST', '/v1/widget/session', { key: widget.key }, '', { origin });
      return minted.status === 201 ? (minted.body['token'] as string) : undefined;
    });
    const asked = await call(second, 'POST', '/v1/ask', { question: 'What does charger code F-31 mean?' }, session, { origin });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));

    // A console session opened on one node works on the other (same shared secret), CSRF token included.
    const signedIn = await fetch(`${first.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: admin }) });
    assert.equal(signedIn.status, 200);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await signedIn.json()) as { csrfToken: string };
    assert.equal((await call(second, 'GET', '/v1/keys', undefined, '', { cookie })).status, 200);
    const made = await call(second, 'POST', '/v1/keys', { scope: 'query', label: 'from the console' }, '', { cookie, 'x-csrf-token': csrfToken });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await call(first, 'DELETE', `/v1/keys/${(made.body['record'] as { id: string }).id}`, undefined, '', { cookie, 'x-csrf-token': csrfToken })).status, 204);
    // Signed out on one node, the session is refused by the other within seconds too.
    assert.equal((await call(first, 'DELETE', '/v1/console/session', undefined, '', { cookie, 'x-csrf-token': csrfToken })).status, 204);
    const signedOutAt = Date.now();
    await waitFor(
      'the signed-out session refused on both nodes',
      async () => {
        const statuses = await Promise.all(nodes.map(async (node) => (await call(node, 'GET', '/v1/keys', undefined, '', { cookie })).status));
        return statuses.every((status) => status === 401) ? true : undefined;
      },
      10_000,
    );
    assert.ok(Date.now() - signedOutAt < 5_000, `refused by both ${Date.now() - signedOutAt} ms after the sign-out`);
  });

  it("counts a key's rate limit over both nodes, and takes feedback on one node about an answer given by the other", async () => {
    const [first, second] = nodes as [ServerProcess, ServerProcess];
    const limited = cli(['keys', 'create', '--scope', 'query', '--rate-limit', '6']);
    // Every answer to this key, on either node: six are allowed in the minute, in all.
    const answered: { node: number; status: number }[] = [];
    const limitedSearch = async (node: number) => {
      const { status } = await search(nodes[node]!, 'forklift', 'default', limited.key);
      answered.push({ node, status });
      return status;
    };
    // Known to a node = refused for its body (400, checked before the rate limit counts) rather than for the key (401).
    const knows = async (node: ServerProcess) => (await call(node, 'POST', '/v1/search', {}, limited.key)).status === 400;
    await waitFor('the new key on both nodes', async () => ((await knows(first)) && (await knows(second)) ? true : undefined), 10_000);
    for (let request = 0; request < 12 && !answered.some((entry) => entry.status === 429); request++) await limitedSearch(request % 2);
    const accepted = answered.filter((entry) => entry.status === 200);
    assert.equal(accepted.length, 6, JSON.stringify(answered));
    assert.deepEqual(new Set(accepted.map((entry) => entry.node)), new Set([0, 1]));
    assert.equal(answered.at(-1)!.status, 429);

    const asked = await call(first, 'POST', '/v1/ask', { question: 'What does charger code F-31 mean?' });
    assert.equal(asked.status, 200);
    const rated = await call(second, 'POST', '/v1/feedback', { answerId: asked.body['answerId'], rating: 'up', comment: 'clear' });
    assert.equal(rated.status, 201, JSON.stringify(rated.body));
    const listed = await call(first, 'GET', '/v1/feedback');
    const entries = listed.body['feedback'] as { answerId: string; rating: string; question: string }[];
    assert.deepEqual(
      entries.filter((entry) => entry.answerId === asked.body['answerId']).map((entry) => [entry.rating, entry.question]),
      [['up', 'What does charger code F-31 mean?']],
    );
    // The conversation log is the shared table's too, with the answer's sources and its feedback given on the other node.
    const log = (await call(second, 'GET', '/v1/conversations?rating=up&limit=5')).body as { conversations: { id: string; kind: string; sources: unknown[]; comment: string }[] };
    const logged = log.conversations.find((entry) => entry.id === asked.body['answerId']);
    assert.deepEqual([logged?.kind, logged?.comment, (logged?.sources.length ?? 0) > 0], ['answer', 'clear', true]);
  });

  it('sees a collection created on one node from the other, and its deletion', async () => {
    const [first, second] = nodes as [ServerProcess, ServerProcess];
    assert.equal((await call(first, 'POST', '/v1/collections', { name: 'hr' })).status, 201);
    const upload = await waitFor('the collection on the other node', async () => {
      const response = await call(second, 'POST', '/v1/collections/hr/documents', { title: 'Leave policy', text: 'Employees take 15 days of paid annual leave; requests go through the HR portal.' });
      return response.status === 202 ? response : undefined;
    });
    assert.equal((await finishedJob(first, (upload.body['job'] as { id: string }).id)).state, 'succeeded');
    assert.deepEqual((await search(first, 'paid annual leave days', 'hr')).sources, ['Leave policy.txt']);
    assert.equal((await call(second, 'DELETE', '/v1/collections/hr')).status, 204);
    await waitFor('the deletion on the other node', async () => ((await search(first, 'annual leave', 'hr')).status === 404 ? true : undefined), 5_000);
  });

  it('finishes on the other node a job whose worker was killed with SIGKILL', async () => {
    // Files big enough that the job runs for several seconds: it is killed with most of them still to do.
    const form = new FormData();
    const total = 10;
    for (let index = 0; index < total; index++) {
      const sections = Array.from(
        { length: 250 },
        (_, section) =>
          `## Procedure ${index}-${section}\n\nInspect valve V-${index}-${section} on line ${section % 17}; torque the flange bolts to ${20 + (section % 40)} Nm and log reading R${index * 1000 + section}.\n`,
      );
      form.append('file', new Blob([`# Maintenance manual ${index}\n\n${sections.join('\n')}`], { type: 'text/markdown' }), `manual-${index}.md`);
    }
    const response = await fetch(`${nodes[0]!.url}/v1/collections/default/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    assert.equal(response.status, 202);
    const id = ((await response.json()) as { job: { id: string } }).job.id;
    const running = await waitFor('the job under way', async () => {
      const job = (await call(nodes[0]!, 'GET', `/v1/jobs/${id}`)).body as unknown as JobBody;
      return job.state === 'running' && job.progress.done >= 1 ? job : undefined;
    });
    assert.ok(running.progress.done < total, 'the job finished before it could be interrupted: make its files bigger');
    const victimIndex = nodes.findIndex((node) => running.worker?.includes(`:${node.child.pid}:`));
    assert.ok(victimIndex >= 0, `the worker ${running.worker} is one of the two nodes`);
    const victim = nodes[victimIndex]!;
    const survivor = nodes[1 - victimIndex]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const finished = await finishedJob(survivor, id);
    assert.equal(finished.state, 'succeeded');
    assert.equal(finished.attempts, 2);
    assert.ok(finished.worker?.includes(`:${survivor.child.pid}:`), `finished by ${finished.worker}`);
    assert.deepEqual(
      finished.files.filter((file) => file.status !== 'added' && file.status !== 'unchanged'),
      [],
    );
    assert.equal(finished.files.filter((file) => file.status === 'added').length >= total - 1, true);
    assert.deepEqual((await search(survivor, `valve V-${total - 1}-7 reading R${(total - 1) * 1000 + 7}`)).sources.slice(0, 1), [`manual-${total - 1}.md`]);
    // The job list is the shared table's, newest first, a page at a time.
    const listed = (await call(survivor, 'GET', '/v1/jobs?limit=1&state=succeeded')).body as unknown as { jobs: JobBody[]; total: number };
    assert.deepEqual(
      listed.jobs.map((job) => job.id),
      [id],
    );
    assert.ok(listed.total >= 2, `succeeded jobs: ${listed.total}`);
    // The killed node comes back for the next test.
    nodes[victimIndex] = await startServer(nodeEnvironment());
  });

  it('keeps serving with no failed request on one node while the other restarts', async () => {
    const [restarting, serving] = nodes as [ServerProcess, ServerProcess];
    const load = autocannon({
      url: `${serving.url}/v1/search`,
      connections: 10,
      duration: 8,
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'valve torque flange bolts', topK: 5 }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    restarting.child.kill('SIGTERM');
    assert.equal(await restarting.exited, 0);
    nodes[0] = await startServer(nodeEnvironment());
    assert.equal((await fetch(`${nodes[0].url}/readyz`)).status, 200);
    const result = await load;
    assert.ok(result.requests.total > 100, `only ${result.requests.total} requests`);
    assert.equal(result.errors, 0);
    assert.equal(result.non2xx, 0);
    assert.equal(result.timeouts, 0);
  });
});
