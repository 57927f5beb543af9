// `kb crawl` against a local site of 60 linked pages served by this test: robots.txt obeyed, the sitemap's unlinked
// page found, the depth and page limits kept, each page's URL its citation link; a second crawl sends conditional
// requests (answered 304), reindexes a changed page and removes a vanished one from the index.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { disallowedPaths, mirrorPathOf } from '../../src/ingest/crawler.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import type { Job } from '../../src/jobs/types.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { buildApp } from '../../src/server/app.ts';
import { runCli, runCliAsync } from '../helpers/child-process.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const PAGES = 60;

describe('crawling a website into a collection and keeping it in sync', () => {
  let server: Server;
  let base: string;
  const pages = new Map<string, string>();
  const requests: { path: string; conditional: boolean; status: number }[] = [];

  const page = (title: string, body: string, links: string[]) =>
    `<!doctype html><html><head><title>${title}</title></head><body><nav><a href="/">Home</a></nav><main><h1>${title}</h1><p>${body}</p>${links.map((link) => `<a href="${link}">${link}</a>`).join(' ')}</main></body></html>`;

  before(async () => {
    const articles = Array.from({ length: PAGES - 1 }, (_, index) => `/kb/article-${index + 1}.html`);
    pages.set(
      '/',
      page('IT help desk', 'Answers to common IT questions.', ['/kb/article-1.html', '/kb/article-2.html', '/private/salaries.html', 'mailto:it@example.com', 'https://elsewhere.example/']),
    );
    for (const [index, article] of articles.entries()) {
      const number = index + 1;
      const body =
        number === 7
          ? 'To reset the VPN token, open the self-service portal and choose Reset token; the new token works after five minutes.'
          : `Article ${number} explains printer queue ${number} and its toner code T-${number}.`;
      pages.set(
        article,
        page(
          `Article ${number}`,
          body,
          [articles[index + 1], articles[index + 2]].filter((link): link is string => !!link),
        ),
      );
    }
    pages.set('/orphan.html', page('Wi-Fi for guests', 'Guests join the network GUEST-NET with the code printed at the reception desk.', []));
    pages.set('/private/salaries.html', page('Salaries', 'Not for the crawler.', []));
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
        requests.push({ path: url.pathname, conditional: request.headers['if-none-match'] !== undefined, status });
        response.writeHead(status, { 'content-type': type, ...headers }).end(status === 304 ? undefined : body);
      };
      if (url.pathname === '/robots.txt') return send(200, 'text/plain', 'User-agent: *\nDisallow: /private/\n\nUser-agent: BadBot\nDisallow: /\n');
      if (url.pathname === '/sitemap.xml') return send(200, 'application/xml', `<?xml version="1.0"?><urlset><url><loc>${base}/orphan.html</loc></url></urlset>`);
      const html = pages.get(url.pathname);
      if (!html) return send(404, 'text/html', 'not found');
      const etag = `"${createHash('sha256').update(html).digest('hex').slice(0, 16)}"`;
      if (request.headers['if-none-match'] === etag) return send(304, 'text/html', '', { etag });
      return send(200, 'text/html; charset=utf-8', html, { etag });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads robots.txt rules for every agent, and names mirror files after their URLs', () => {
    assert.deepEqual(disallowedPaths('User-agent: *\nDisallow: /private/\nUser-agent: BadBot\nDisallow: /\n# comment\nUser-agent: *\nDisallow: /tmp'), ['/private/', '/tmp']);
    assert.equal(mirrorPathOf(new URL('https://a.example/help/')), 'help/index.html');
    assert.equal(mirrorPathOf(new URL('https://a.example/help/vpn')), 'help/vpn.html');
    assert.equal(mirrorPathOf(new URL('https://a.example/../../etc/passwd')), 'etc/passwd.html');
    assert.match(mirrorPathOf(new URL('https://a.example/list.html?page=2')), /^list-[0-9a-f]{8}\.html$/);
  });

  it('crawls the site, answers from it with the page as the link, then re-syncs changes and removals', async () => {
    const dataDir = temporaryDirectory();
    const environment = { KB_DATA_DIR: dataDir };
    const crawl = async (extra: string[] = []) => {
      const result = await runCliAsync(['crawl', `${base}/`, '--collection', 'helpdesk', '--delay-ms', '0', '--depth', '100', ...extra, '--json'], environment);
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout) as { pages: number; notModified: number; added: number; updated: number; unchanged: number; removed: number };
    };
    const first = await crawl();
    assert.equal(first.pages, PAGES + 1, 'every linked page, and the sitemap page no link reaches');
    assert.equal(first.added, PAGES + 1);
    assert.ok(!requests.some((request) => request.path.startsWith('/private/')), 'robots.txt is obeyed');

    const ask = async (question: string) => {
      const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: `${dataDir}/collections/helpdesk` }), silentLogger);
      try {
        return await knowledgeBase.ask({ question, scope: READ_EVERYTHING });
      } finally {
        await knowledgeBase.close();
      }
    };
    const vpn = await ask('How do I reset my VPN token?');
    assert.equal(vpn.answerable, true);
    assert.ok(
      vpn.citations.some((citation) => citation.url === `${base}/kb/article-7.html`),
      JSON.stringify(vpn.citations),
    );
    assert.equal((await ask('What is the guest Wi-Fi network called?')).citations[0]?.url, `${base}/orphan.html`);

    // The site changes: one page is rewritten, one vanishes (the sitemap still lists it: its 404 says it is gone).
    pages.set('/kb/article-7.html', page('Article 7', 'VPN tokens are now reset by calling the service desk on extension 4242.', ['/kb/article-8.html', '/kb/article-9.html']));
    pages.delete('/orphan.html');
    requests.length = 0;
    const second = await crawl();
    assert.ok(
      requests.some((request) => request.conditional && request.status === 304),
      'unchanged pages are asked for conditionally',
    );
    assert.equal(second.notModified, PAGES - 1);
    assert.equal(second.updated, 1);
    assert.equal(second.removed, 1);
    assert.match((await ask('How do I reset my VPN token?')).answer, /4242/);
    assert.notEqual((await ask('What is the guest Wi-Fi network called?')).citations[0]?.url, `${base}/orphan.html`);

    // Limits: a crawl of at most 5 requests (the home page, the sitemap's vanished page, articles 1 to 3) keeps the 4
    // pages it reached and removes the rest from the index.
    const limited = await crawl(['--max-pages', '5']);
    assert.equal(limited.pages, 4);
    assert.equal(limited.removed, PAGES - 4);
  });

  it('crawls over the API as a job, and re-syncs on a schedule: changed pages reindexed, vanished ones removed', async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    const admin = keys.create({ scope: 'admin' }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_SYNC_CHECK_SECONDS: '1', KB_RATE_LIMIT_PER_MINUTE: '100000' });
    const app = await buildApp({ config, knowledgeBase: await KnowledgeBase.open(config, silentLogger), keys });
    const api = await app.listen({ host: '127.0.0.1', port: 0 });
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${api}${route}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: response.status === 204 ? undefined : ((await response.json()) as Record<string, unknown>) };
    };
    const finished = async (id: string): Promise<Job> => {
      for (let attempt = 0; attempt < 1200; attempt++) {
        const job = (await call('GET', `/v1/jobs/${id}`)).body as unknown as Job;
        if (job.state === 'succeeded' || job.state === 'failed') return job;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.fail(`job ${id} did not finish`);
    };
    const search = async (query: string) => ((await call('POST', '/v1/search', { query })).body as { results: { source: string; url?: string; text: string }[] }).results;
    try {
      assert.equal((await call('POST', '/v1/collections/default/crawls', { url: 'ftp://files.example/' })).status, 400);
      assert.equal((await call('POST', '/v1/collections/nowhere/crawls', { url: `${base}/` })).status, 404);
      const started = await call('POST', '/v1/collections/default/crawls', { url: `${base}/`, delayMs: 0, maxDepth: 100 });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const crawl = await finished((started.body as { job: Job }).job.id);
      assert.equal(crawl.kind, 'crawl');
      assert.equal(crawl.state, 'succeeded', JSON.stringify(crawl));
      assert.equal(crawl.files.filter((file) => file.status === 'added').length, PAGES);
      assert.ok(crawl.files.some((file) => file.name === `${base}/kb/article-7.html`));
      const [vpn] = await search('reset the VPN token service desk');
      assert.match(vpn!.text, /4242/);

      // The site changes; a schedule's first run is due at once, and picked up within the check interval.
      pages.set('/kb/article-12.html', page('Article 12', 'Toner code T-999 means the drum unit must be replaced.', ['/kb/article-13.html', '/kb/article-14.html']));
      pages.delete('/kb/article-59.html');
      const created = await call('POST', '/v1/collections/default/sync-schedules', { url: `${base}/`, delayMs: 0, maxDepth: 100, everyMinutes: 60 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const schedule = (created.body as { schedule: { id: string; everyMinutes: number } }).schedule;
      let lastJobId: string | undefined;
      for (let attempt = 0; attempt < 400 && !lastJobId; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        lastJobId = ((await call('GET', '/v1/collections/default/sync-schedules')).body as { schedules: { id: string; lastJobId?: string; nextRunAt: string }[] }).schedules.find(
          (entry) => entry.id === schedule.id,
        )?.lastJobId;
      }
      assert.ok(lastJobId, 'the schedule started a crawl job');
      const resync = await finished(lastJobId);
      assert.equal(resync.state, 'succeeded', JSON.stringify(resync));
      const status = (name: string) => resync.files.find((file) => file.name === `${base}${name}`)?.status;
      assert.deepEqual([status('/kb/article-12.html'), status('/kb/article-59.html'), status('/kb/article-13.html')], ['updated', 'removed', 'unchanged']);
      const [toner] = await search('toner code T-999 drum unit');
      assert.equal(toner?.url, `${base}/kb/article-12.html`);
      assert.ok(!(await search('printer queue 59 toner code T-59')).some((result) => result.url === `${base}/kb/article-59.html`));
      const listed = (await call('GET', '/v1/collections/default/sync-schedules')).body as { schedules: { id: string; nextRunAt: string }[] };
      assert.ok(Date.parse(listed.schedules[0]!.nextRunAt) > Date.now() + 50 * 60_000, 'the next run is an interval away');

      assert.equal((await call('DELETE', `/v1/collections/default/sync-schedules/${schedule.id}`)).status, 204);
      assert.equal((await call('DELETE', `/v1/collections/default/sync-schedules/${schedule.id}`)).status, 404);
      assert.deepEqual((await call('GET', '/v1/collections/default/sync-schedules')).body, { schedules: [] });
      assert.equal((await call('POST', '/v1/collections/default/sync-schedules', { url: `${base}/`, everyMinutes: 0 })).status, 400);
    } finally {
      await app.close();
    }
  });

  it('refuses an address that is not a web page with a clear error', () => {
    const result = runCli(['crawl', 'ftp://files.example/', '--json'], { KB_DATA_DIR: temporaryDirectory() });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /not a web address to crawl/);
  });
});
