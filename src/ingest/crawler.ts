// A website as a source that stays in sync: the crawler keeps a mirror of the site's pages in the collection's data
// folder (sites/<host>/…, one file per page, with each page's URL, ETag and Last-Modified in sites/<host>.json), and
// the mirror is ingested like any folder, so that the existing incremental ingestion does the syncing: a changed page
// is reindexed, an unchanged one skipped by its content hash, a page that vanished from the site is deleted from the
// mirror and so from the index. Each page's URL is its citation link.
//
// What it fetches: pages of the start URL's host (by default), breadth first from the start URL and from the URLs of
// the site's sitemap.xml, up to a depth and a page count, never what robots.txt disallows for every agent ("*"),
// one request at a time with a politeness delay, conditional requests (If-None-Match, If-Modified-Since) on a re-crawl.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseHtml } from 'node-html-parser';
import { KbError, describeError } from '../errors.ts';

export interface CrawlOptions {
  /** Where the mirrors live (a collection's data folder + /sites). */
  sitesDir: string;
  start: string;
  /** Links followed from the start page at most (0..100). */
  maxDepth: number;
  /** Pages requested at most (1..100000), a vanished one included. */
  maxPages: number;
  /** Pause between two requests to the site (ms; 0..60000). */
  delayMs: number;
  /** Follow links to other hosts too (off: the start URL's host only). */
  otherHosts?: boolean;
  onPage?: (url: string, outcome: 'new' | 'changed' | 'unchanged' | 'gone' | 'failed', detail?: string) => void;
  fetch?: typeof fetch;
}

export interface CrawlSummary {
  /** The mirror folder to ingest, and the folder its sources are relative to. */
  folder: string;
  baseDir: string;
  fetched: number;
  notModified: number;
  failed: { url: string; reason: string }[];
  /** Mirror files removed because their page is gone from the site (or no longer reached). */
  removed: number;
  /** The URL of each mirrored file, by its path relative to baseDir (for the citations). */
  urls: Map<string, string>;
}

interface PageState {
  file: string;
  etag?: string;
  lastModified?: string;
}

const USER_AGENT = 'kb-qa-crawler/1 (+knowledge-base indexing)';
const STATE_VERSION = 1;

/** The Disallow rules of robots.txt for every agent (the "*" groups). */
export function disallowedPaths(robots: string): string[] {
  const rules: string[] = [];
  let applies = false;
  let inAgents = false;
  for (const raw of robots.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const match = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, field, value] = match as unknown as [string, string, string];
    const name = field.toLowerCase();
    if (name === 'user-agent') {
      applies = inAgents ? applies || value === '*' : value === '*';
      inAgents = true;
      continue;
    }
    inAgents = false;
    if (name === 'disallow' && applies && value) rules.push(value);
  }
  return rules;
}

/** A page's file in the mirror: its path, with index.html for a folder and .html added where it has no extension. */
export function mirrorPathOf(url: URL): string {
  let pathname = decodeURIComponent(url.pathname);
  if (pathname.endsWith('/')) pathname += 'index.html';
  if (!/\.html?$/i.test(pathname)) pathname += '.html';
  const query = url.search ? `-${createHash('sha256').update(url.search).digest('hex').slice(0, 8)}` : '';
  const safe = pathname
    .split('/')
    .filter((part) => part && part !== '.' && part !== '..')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what a file name must not keep
    .map((part) => part.replace(/[\u0000-\u001f<>:"|?*\\]/g, '_').slice(0, 120))
    .join('/');
  return query ? safe.replace(/(\.html?)$/i, `${query}$1`) : safe;
}

function normalized(href: string, base: URL): URL | undefined {
  try {
    const url = new URL(href, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    return url;
  } catch {
    return undefined;
  }
}

function filesUnder(folder: string, prefix = ''): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    return statSync(full).isDirectory() ? filesUnder(full, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

export async function crawlSite(options: CrawlOptions): Promise<CrawlSummary> {
  const fetchPage = options.fetch ?? fetch;
  let start: URL;
  try {
    start = new URL(options.start);
    if (start.protocol !== 'http:' && start.protocol !== 'https:') throw new Error('not http or https');
  } catch (error) {
    throw new KbError('KB_ERR_VALIDATION', { details: `"${options.start}" is not a web address to crawl (${describeError(error)})` });
  }
  const host = start.host.replace(/[^a-zA-Z0-9.-]/g, '_');
  mkdirSync(options.sitesDir, { recursive: true });
  const folder = path.join(options.sitesDir, host);
  const stateFile = path.join(options.sitesDir, `${host}.json`);
  const previous: Record<string, PageState> = existsSync(stateFile) ? ((JSON.parse(readFileSync(stateFile, 'utf8')) as { pages?: Record<string, PageState> }).pages ?? {}) : {};
  const state: Record<string, PageState> = {};
  const summary: CrawlSummary = { folder, baseDir: options.sitesDir, fetched: 0, notModified: 0, failed: [], removed: 0, urls: new Map() };
  let lastRequest = 0;
  const politely = async <T>(request: () => Promise<T>): Promise<T> => {
    const wait = lastRequest + options.delayMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      return await request();
    } finally {
      lastRequest = Date.now();
    }
  };
  const get = (url: URL, headers: Record<string, string> = {}) =>
    politely(() => fetchPage(url, { headers: { 'user-agent': USER_AGENT, ...headers }, redirect: 'follow', signal: AbortSignal.timeout(30_000) }));

  const robots = await get(new URL('/robots.txt', start)).then(
    async (response) => (response.ok ? response.text() : ''),
    () => '',
  );
  const disallowed = disallowedPaths(robots);
  const allowed = (url: URL) => (options.otherHosts || url.host === start.host) && !disallowed.some((rule) => url.pathname.startsWith(rule));

  // The sitemap's URLs join the start page at depth 0: pages no link reaches are found too.
  const queue: { url: URL; depth: number }[] = [{ url: start, depth: 0 }];
  const sitemaps = [...robots.matchAll(/^\s*sitemap\s*:\s*(\S+)/gim)].map((match) => match[1]!);
  for (const sitemap of sitemaps.length > 0 ? sitemaps : [new URL('/sitemap.xml', start).href]) {
    const response = await get(new URL(sitemap, start)).catch(() => undefined);
    if (!response?.ok) continue;
    for (const match of (await response.text()).matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)) {
      const url = normalized(match[1]!, start);
      if (url) queue.push({ url, depth: 0 });
    }
  }
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < options.maxPages) {
    const { url, depth } = queue.shift()!;
    if (seen.has(url.href) || !allowed(url)) continue;
    seen.add(url.href);
    const file = mirrorPathOf(url);
    const before = previous[url.href];
    const conditional: Record<string, string> = {};
    if (before && existsSync(path.join(folder, before.file))) {
      if (before.etag) conditional['if-none-match'] = before.etag;
      if (before.lastModified) conditional['if-modified-since'] = before.lastModified;
    }
    let html: string;
    try {
      const response = await get(url, conditional);
      if (response.status === 304 && before) {
        summary.notModified++;
        state[url.href] = before;
        html = readFileSync(path.join(folder, before.file), 'utf8');
        options.onPage?.(url.href, 'unchanged');
      } else if (response.status === 404 || response.status === 410) {
        // Gone from the site (a sitemap may still list it): it leaves the mirror, and so the index.
        options.onPage?.(url.href, 'gone');
        continue;
      } else if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      } else if (!(response.headers.get('content-type') ?? 'text/html').includes('html')) {
        continue; // not a page: images, PDFs and the like are not followed by the crawler
      } else {
        html = await response.text();
        summary.fetched++;
        const target = path.join(folder, file);
        mkdirSync(path.dirname(target), { recursive: true });
        const changed = !existsSync(target) || readFileSync(target, 'utf8') !== html;
        if (changed) {
          writeFileSync(`${target}.partial`, html);
          renameSync(`${target}.partial`, target);
        }
        state[url.href] = {
          file,
          ...(response.headers.get('etag') ? { etag: response.headers.get('etag')! } : {}),
          ...(response.headers.get('last-modified') ? { lastModified: response.headers.get('last-modified')! } : {}),
        };
        options.onPage?.(url.href, before ? (changed ? 'changed' : 'unchanged') : 'new');
      }
    } catch (error) {
      summary.failed.push({ url: url.href, reason: describeError(error) });
      options.onPage?.(url.href, 'failed', describeError(error));
      // A page that failed this time keeps its mirror copy: a passing outage must not delete it from the index.
      if (before) state[url.href] = before;
      continue;
    }
    if (depth >= options.maxDepth) continue;
    for (const anchor of parseHtml(html).querySelectorAll('a[href]')) {
      const next = normalized(anchor.getAttribute('href') ?? '', url);
      if (next && !seen.has(next.href)) queue.push({ url: next, depth: depth + 1 });
    }
  }

  // Pages no longer on the site (or no longer reached) leave the mirror, and so the index.
  const kept = new Set(Object.values(state).map((page) => page.file));
  for (const file of filesUnder(folder)) {
    if (kept.has(file)) continue;
    rmSync(path.join(folder, file));
    summary.removed++;
  }
  writeFileSync(stateFile, JSON.stringify({ formatVersion: STATE_VERSION, start: start.href, crawledAt: new Date().toISOString(), pages: state }, null, 2) + '\n');
  for (const [url, page] of Object.entries(state)) summary.urls.set(`${host}/${page.file}`, url);
  return summary;
}
