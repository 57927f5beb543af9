// Background jobs behind one seam: what a job is (its API form), what it is asked to do (a spec kept with it, so that
// any node can run or resume it), and the queue that runs them. The embedded queue (jobs.ts) runs them in this
// process and keeps their state in the data directory; the PostgreSQL queue (shared-state/postgres-jobs.ts) keeps
// them in a table that every node's worker takes jobs from, with a lease another node takes over when one dies.
import type { EmbedderChange } from '../collections/reembed.ts';
import type { DocumentOverrides } from '../ingest/pipeline.ts';
import type { SiteSyncLimits } from '../ingest/site-sync.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobFile {
  name: string;
  /** For a crawl, a file is a page (named by its URL): "removed" when it is gone from the site. */
  status: 'pending' | 'added' | 'updated' | 'unchanged' | 'duplicate' | 'failed' | 'removed';
  /** For a duplicate: the source of the document that already has this content. */
  duplicateOf?: string;
  error?: string;
  /** Indexed, but not all of it: pages past OCR's page budget or time limit, named. */
  warning?: string;
}

export interface Job {
  id: string;
  kind: 'upload' | 'reindex' | 'reembed' | 'crawl';
  collection: string;
  state: JobState;
  progress: {
    done: number;
    total: number;
    /** While a scanned file is read by OCR (the slow part of a job): the file, and its pages read of the pages to read. */
    ocr?: { file: string; pages: number; total: number };
  };
  files: JobFile[];
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The node running it, or that last ran it (a shared queue's worker id: host, process and start). */
  worker?: string;
  /** Times a worker took it: above 1 when another node took it over after its worker stopped. */
  attempts?: number;
}

/** What a job does beyond its kind, collection and files: kept with the job, never shown by the API. */
export interface JobParameters {
  /** Parse and embed again even when a file's content is unchanged (a reindex). */
  force?: boolean;
  /** Metadata, groups and URL given to every document of an upload. */
  documentDefaults?: DocumentOverrides;
  /** A reindex's: each file's title, metadata, groups and URL as they are indexed, kept through the new parse. */
  documentsAsIndexed?: Record<string, DocumentOverrides>;
  /** A re-embedding's new embedder. */
  embedderChange?: EmbedderChange;
  /** A crawl's website and limits. */
  crawl?: { url: string } & SiteSyncLimits;
}

export interface JobSpec {
  kind: Job['kind'];
  collection: string;
  files: string[];
  parameters?: JobParameters;
}

/**
 * Does a job's work on this node, recording progress on `job` and calling `update` to save it. A job taken over from
 * a stopped worker comes with the files that worker finished already marked: the runner goes on from the first
 * pending one.
 */
export type JobRunner = (job: Job, parameters: JobParameters, update: () => Promise<void>) => Promise<void>;

export interface JobListQuery {
  limit: number;
  offset: number;
  collection?: string;
  state?: JobState;
}

export interface JobQueue {
  /** Throws KB_ERR_BUSY (503 with Retry-After) when the queue cannot take another job. */
  assertAvailable(): Promise<void>;
  submit(spec: JobSpec): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Jobs newest first, a page of them, optionally of one collection or in one state; with how many match. */
  list(query: JobListQuery): Promise<{ jobs: Job[]; total: number }>;
  /** Starts this node's worker with the runner that knows how to do each kind of job. */
  start(runner: JobRunner): void;
  /** Resolves when this node has no job running or waiting for it (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stops taking jobs; a job running here finishes first. */
  close(): Promise<void>;
}
