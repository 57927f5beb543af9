// The embedded job queue: uploads, reindexing and re-embedding run one at a time in this process (the machine has two
// cores and the server keeps answering queries meanwhile), in arrival order, with a bounded queue. Each job's state is
// written to KB_DATA_DIR/jobs/<id>.json as it changes, so that after a crash a restarted server reports jobs that were
// cut short as failed (and their files, kept in KB_DATA_DIR/files, can be reindexed) instead of forgetting them.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KbError, describeError, storageError } from '../errors.ts';
import type { Job, JobListQuery, JobParameters, JobQueue, JobRunner, JobSpec } from './types.ts';

export type { Job, JobFile, JobState } from './types.ts';

/** Retry-After given when the queue is full (seconds). */
export const BUSY_RETRY_SECONDS = 30;

export function busyError(waiting: number): KbError {
  return new KbError('KB_ERR_BUSY', { details: `${waiting} jobs are waiting.`, retryAfter: BUSY_RETRY_SECONDS }, { extra: { retryAfter: BUSY_RETRY_SECONDS } });
}

/** A new job in its first state. */
export function newJob(spec: JobSpec): Job {
  return {
    id: randomUUID(),
    kind: spec.kind,
    collection: spec.collection,
    state: 'queued',
    progress: { done: 0, total: spec.files.length },
    files: spec.files.map((name) => ({ name, status: 'pending' })),
    createdAt: new Date().toISOString(),
  };
}

/** A job whose files all failed failed; otherwise it succeeded (each file says how it went). */
export function finalState(job: Job): 'succeeded' | 'failed' {
  return job.files.length > 0 && job.files.every((file) => file.status === 'failed') ? 'failed' : 'succeeded';
}

export class LocalJobQueue implements JobQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: { job: Job; parameters: JobParameters }[] = [];
  private running = false;
  private runner: JobRunner | undefined;
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

  async assertAvailable(): Promise<void> {
    if (this.isFull()) throw busyError(this.pending.length);
  }

  async get(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  async list(query: JobListQuery): Promise<{ jobs: Job[]; total: number }> {
    const matching = [...this.jobs.values()]
      .filter((job) => (query.collection === undefined || job.collection === query.collection) && (query.state === undefined || job.state === query.state))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    return { jobs: matching.slice(query.offset, query.offset + query.limit).map((job) => structuredClone(job)), total: matching.length };
  }

  async submit(spec: JobSpec): Promise<Job> {
    const job = newJob(spec);
    this.jobs.set(job.id, job);
    this.persist(job);
    this.pending.push({ job, parameters: spec.parameters ?? {} });
    void this.next();
    return structuredClone(job);
  }

  start(runner: JobRunner): void {
    this.runner = runner;
    void this.next();
  }

  async idle(): Promise<void> {
    while (this.running || (this.runner && this.pending.length > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  async close(): Promise<void> {
    await this.idle();
  }

  private async next(): Promise<void> {
    if (this.running || !this.runner) return;
    const item = this.pending.shift();
    if (!item) return;
    this.running = true;
    const { job, parameters } = item;
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    job.attempts = 1;
    this.persist(job);
    try {
      await this.runner(job, parameters, async () => this.persist(job));
      job.state = finalState(job);
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
