// Background ingestion jobs: uploads and reindexing run one at a time (the machine has two cores and the server
// keeps answering queries meanwhile), in arrival order, with a bounded queue. Each job's state is written to
// KB_DATA_DIR/jobs/<id>.json as it changes, so that after a crash a restarted server reports jobs that were cut
// short as failed (and their files, kept in KB_DATA_DIR/files, can be reindexed) instead of forgetting them.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KbError, describeError, storageError } from '../errors.ts';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobFile {
  name: string;
  status: 'pending' | 'added' | 'updated' | 'unchanged' | 'duplicate' | 'failed';
  /** For a duplicate: the source of the document that already has this content. */
  duplicateOf?: string;
  error?: string;
}

export interface Job {
  id: string;
  kind: 'upload' | 'reindex' | 'reembed';
  collection: string;
  state: JobState;
  progress: { done: number; total: number };
  files: JobFile[];
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Retry-After given when the queue is full (seconds). */
const BUSY_RETRY_SECONDS = 30;

export type JobWork = (job: Job, update: () => void) => Promise<void>;

export class JobQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: { job: Job; work: JobWork }[] = [];
  private running = false;
  private readonly directory: string;

  constructor(
    dataDir: string,
    /** Jobs waiting at most (1..1000); beyond it a new job is refused with 503. */
    private readonly maxQueued: number,
  ) {
    this.directory = path.join(dataDir, 'jobs');
    try {
      mkdirSync(this.directory, { recursive: true });
    } catch (error) {
      throw storageError(error, dataDir) ?? error;
    }
    this.recover();
  }

  /** Jobs a previous process left queued or running were cut short: report them as failed. */
  private recover(): void {
    for (const name of readdirSync(this.directory).filter((file) => file.endsWith('.json'))) {
      try {
        const job = JSON.parse(readFileSync(path.join(this.directory, name), 'utf8')) as Job;
        if (job.state === 'queued' || job.state === 'running') {
          job.state = 'failed';
          job.error =
            job.kind === 'reembed'
              ? 'the server stopped before the embedding model switch finished; the collection kept one complete index (the previous model’s, or the new one’s if the swap had begun: GET /v1/collections shows which); start the switch again if needed'
              : 'the server stopped before this job finished; documents written before the stop are complete, the rest were not ingested: upload them again or reindex';
          job.finishedAt = new Date().toISOString();
          this.persist(job);
        }
        this.jobs.set(job.id, job);
      } catch {
        // an unreadable job file is skipped, never fatal
      }
    }
  }

  get queued(): number {
    return this.pending.length;
  }

  isFull(): boolean {
    return this.pending.length >= this.maxQueued;
  }

  /** Throws KB_ERR_BUSY (503 with Retry-After) when the queue cannot take another job. */
  assertAvailable(): void {
    if (this.isFull()) throw new KbError('KB_ERR_BUSY', { details: `${this.pending.length} jobs are waiting.`, retryAfter: BUSY_RETRY_SECONDS }, { extra: { retryAfter: BUSY_RETRY_SECONDS } });
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  submit(input: { kind: Job['kind']; collection: string; files: string[] }, work: JobWork): Job {
    const job: Job = {
      id: randomUUID(),
      kind: input.kind,
      collection: input.collection,
      state: 'queued',
      progress: { done: 0, total: input.files.length },
      files: input.files.map((name) => ({ name, status: 'pending' })),
      createdAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    this.persist(job);
    this.pending.push({ job, work });
    void this.next();
    return job;
  }

  /** Resolves when every submitted job has finished (for tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private async next(): Promise<void> {
    if (this.running) return;
    const item = this.pending.shift();
    if (!item) return;
    this.running = true;
    const { job, work } = item;
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    this.persist(job);
    try {
      await work(job, () => this.persist(job));
      job.state = job.files.length > 0 && job.files.every((file) => file.status === 'failed') ? 'failed' : 'succeeded';
    } catch (error) {
      job.state = 'failed';
      job.error = describeError(error);
    }
    job.finishedAt = new Date().toISOString();
    this.persist(job);
    this.running = false;
    void this.next();
  }

  private persist(job: Job): void {
    const file = path.join(this.directory, `${job.id}.json`);
    const temporary = `${file}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(job));
      renameSync(temporary, file);
    } catch {
      // A read-only or full disk must not stop the job itself; its state stays available in memory.
      if (existsSync(temporary)) return;
    }
  }
}
