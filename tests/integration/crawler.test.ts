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

  it('refuses an address that is not a web page with a clear error', () => {
    const result = runCli(['crawl', 'ftp://files.example/', '--json'], { KB_DATA_DIR: temporaryDirectory() });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /not a web address to crawl/);
  });
});
