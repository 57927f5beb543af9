// How this node does each kind of job, whichever node accepted it: an upload or a reindex parses the collection's kept
// files one by one (a job taken over from a stopped worker goes on from its first pending file), a re-embedding
// switches the collection's embedder.
import type { CollectionRegistry } from '../collections/registry.ts';
import { describeError, isKbError } from '../errors.ts';
import type { OriginalFiles } from '../files/original-files.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import type { IngestProgress } from '../ingest/pipeline.ts';
import { syncSite, type PageOutcome } from '../ingest/site-sync.ts';
import type { Job, JobFile, JobParameters, JobRunner } from './types.ts';
import path from 'node:path';

/** Worker threads of an ingestion job (unless KB_INGEST_THREADS says otherwise): one keeps the event loop free. */
const SERVER_INGEST_THREADS = 1;

/** OCR page and crawl progress is saved at most this often (each save is a write to the job store, shared between nodes). */
const PROGRESS_SAVE_MILLISECONDS = 1000;

/** `update` for progress that changes often: saved when a second has passed since the last save, or when `now` says so. */
function throttledSave(update: () => Promise<void>): (now?: boolean) => void {
  let lastSaved = 0;
  return (now = false) => {
    const time = performance.now();
    if (!now && time - lastSaved < PROGRESS_SAVE_MILLISECONDS) return;
    lastSaved = time;
    void update();
  };
}

const pageStatus: Record<PageOutcome, JobFile['status']> = { new: 'added', changed: 'updated', unchanged: 'unchanged', gone: 'removed', failed: 'failed' };

/** A website mirrored and ingested (ingest/site-sync.ts): each page a job file, by URL, as the crawler meets it. */
async function crawlJob(job: Job, parameters: JobParameters, knowledgeBase: KnowledgeBase, update: () => Promise<void>): Promise<void> {
  const crawl = parameters.crawl;
  if (!crawl) throw new Error('a crawl job without its website');
  // A crawl taken over from a stopped worker starts again: the mirror makes the pages already fetched cheap.
  job.files = [];
  job.progress = { done: 0, total: crawl.maxPages };
  const saveProgress = throttledSave(update);
  const report = await syncSite(knowledgeBase, crawl.url, crawl, {
    threads: SERVER_INGEST_THREADS,
    onPage: (url, outcome, detail) => {
      job.files.push({ name: url, status: pageStatus[outcome], ...(detail ? { error: detail } : {}) });
      job.progress.done = job.files.length;
      saveProgress();
    },
  });
  // Pages fetched but not indexed (a page the HTML parser rejects) are named by their place in the mirror.
  const crawlFailures = new Set(report.crawlFailures.map((failure) => failure.url));
  for (const failure of report.failed) if (!crawlFailures.has(failure.path)) job.files.push({ name: failure.path, status: 'failed', error: failure.reason });
  job.progress = { done: job.files.length, total: job.files.length };
  await update();
}

export function jobRunner(options: { knowledgeBaseOf: (collection: string) => Promise<KnowledgeBase>; files: OriginalFiles; registry: CollectionRegistry }): JobRunner {
  const { knowledgeBaseOf, files, registry } = options;
  return async (job, parameters, update) => {
    if (job.kind === 'reembed') {
      await registry.switchEmbedder(job.collection, parameters.embedderChange ?? {}, job.id, (done, total) => {
        job.progress = { done, total };
        void update();
      });
      return;
    }
    const knowledgeBase = await knowledgeBaseOf(job.collection);
    if (job.kind === 'crawl') return crawlJob(job, parameters, knowledgeBase, update);
    const saveProgress = throttledSave(update);
    const onProgress = (progress: IngestProgress) => {
      if (progress.ocrPagesTotal === undefined || progress.ocrPages === undefined) return;
      job.progress.ocr = { file: path.basename(progress.file), pages: progress.ocrPages, total: progress.ocrPagesTotal };
      // The last page is always saved: a file's OCR is seen to finish.
      saveProgress(progress.ocrPages === progress.ocrPagesTotal);
    };
    for (const [index, entry] of job.files.entries()) {
      if (entry.status !== 'pending') continue;
      try {
        const copy = await files.localCopy(job.collection, entry.name);
        if (!copy) {
          Object.assign(entry, { status: 'failed', error: 'the uploaded file is no longer kept (deleted since)' });
        } else {
          // Parsed in a worker thread: queries keep answering while a large upload is read.
          const summary = await knowledgeBase.ingest([copy.path], {
            baseDir: copy.directory,
            force: parameters.force ?? false,
            threads: SERVER_INGEST_THREADS,
            onProgress,
            ...(parameters.documentsAsIndexed?.[entry.name]
              ? { documentDefaults: parameters.documentsAsIndexed[entry.name] }
              : parameters.documentDefaults
                ? { documentDefaults: parameters.documentDefaults }
                : {}),
          });
          if (summary.failed.length > 0) Object.assign(entry, { status: 'failed', error: summary.failed[0]!.reason });
          else if (summary.duplicates.length > 0) Object.assign(entry, { status: 'duplicate', duplicateOf: summary.duplicates[0]!.duplicateOf });
          else entry.status = summary.added > 0 ? 'added' : summary.updated > 0 ? 'updated' : 'unchanged';
          if (summary.warnings.length > 0) entry.warning = summary.warnings.map((warning) => warning.message).join('; ');
        }
      } catch (error) {
        Object.assign(entry, { status: 'failed', error: describeError(error) });
        if (isKbError(error) && error.status >= 500) throw error;
      }
      job.progress.done = index + 1;
      delete job.progress.ocr;
      await update();
    }
  };
}
