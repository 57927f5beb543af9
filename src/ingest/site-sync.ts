// A website brought into a collection, or brought up to date: the crawler mirrors it (crawler.ts), then the mirror is
// ingested incrementally with each page's URL as its citation link. Used by `kb crawl`, by crawl jobs of the API and
// by scheduled re-syncs.
import path from 'node:path';
import type { KnowledgeBase } from '../knowledge-base.ts';
import type { IngestSummary } from './pipeline.ts';

export interface SiteSyncLimits {
  /** Links followed from the start page at most (0..100). */
  maxDepth: number;
  /** Pages requested at most (1..100000). */
  maxPages: number;
  /** Pause between two requests to the site (ms; 0..60000). */
  delayMs: number;
}

/** What `kb crawl` and the API use when not told: a help site of a few hundred pages, fetched gently. */
export const DEFAULT_SITE_SYNC_LIMITS: SiteSyncLimits = { maxDepth: 3, maxPages: 500, delayMs: 500 };

export type PageOutcome = 'new' | 'changed' | 'unchanged' | 'gone' | 'failed';

export interface SiteSyncReport extends IngestSummary {
  /** Pages fetched or confirmed unchanged. */
  pages: number;
  notModified: number;
  crawlFailures: { url: string; reason: string }[];
  /** Pages gone from the site, removed from the mirror (and so from the index). */
  gone: number;
}

export async function syncSite(
  knowledgeBase: KnowledgeBase,
  start: string,
  limits: SiteSyncLimits,
  options: { onPage?: (url: string, outcome: PageOutcome, detail?: string) => void; threads?: number } = {},
): Promise<SiteSyncReport> {
  // Loaded by the first crawl, not at every server's or command's start (the crawler brings the HTML parser).
  const { crawlSite } = await import('./crawler.ts');
  const crawled = await crawlSite({ sitesDir: path.join(knowledgeBase.config.dataDir, 'sites'), start, ...limits, ...(options.onPage ? { onPage: options.onPage } : {}) });
  const summary = await knowledgeBase.ingest([crawled.folder], {
    baseDir: crawled.baseDir,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    documentOverrides: (file) => {
      const url = crawled.urls.get(path.relative(crawled.baseDir, path.resolve(file)).split(path.sep).join('/'));
      return url ? { url } : undefined;
    },
  });
  return {
    ...summary,
    failed: [...crawled.failed.map((entry) => ({ path: entry.url, reason: entry.reason })), ...summary.failed],
    pages: crawled.fetched + crawled.notModified,
    notModified: crawled.notModified,
    crawlFailures: crawled.failed,
    gone: crawled.removed,
  };
}
