// The job queue of a deployment of several nodes: a table of the shared schema. Any node accepts a job (its files are
// kept in the database first); every node's worker takes the oldest waiting one with FOR UPDATE SKIP LOCKED, so two
// workers never take the same job, and holds it with a lease it renews every third of KB_JOB_LEASE_SECONDS. A worker
// that dies (a crash, SIGKILL, a lost machine) stops renewing: once the lease has run out another node's worker takes
// the job over and goes on from the first file not yet done (each file's outcome is saved as it finishes; a document
// is written all or nothing, so the file that was being parsed is simply parsed again). A job taken over
// MAX_ATTEMPTS times is failed rather than tried for ever (a file that kills its worker must not kill every node).
import { hostname } from 'node:os';
import type pg from 'pg';
import { describeError } from '../errors.ts';
import { busyError, finalState, newJob } from '../jobs/jobs.ts';
import type { Job, JobFile, JobListQuery, JobParameters, JobQueue, JobRunner, JobSpec } from '../jobs/types.ts';
import { SHARED_SCHEMA } from './postgres.ts';

/** Times a job may be taken by a worker (1..10): above it, it is failed. */
const MAX_ATTEMPTS = 3;
/** How often an idle worker looks for a job (ms; 100..10000); a node also looks at once after accepting one. */
const JOB_POLL_MS = 500;

interface JobRow {
  id: string;
  kind: Job['kind'];
  collection: string;
  state: Job['state'];
  done: number;
  total: number;
  files: JobFile[];
  parameters: JobParameters;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  worker: string | null;
  attempts: number;
  ocr_progress: Job['progress']['ocr'] | null;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    collection: row.collection,
    state: row.state,
    progress: { done: row.done, total: row.total, ...(row.ocr_progress ? { ocr: row.ocr_progress } : {}) },
    files: row.files,
    ...(row.error ? { error: row.error } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.started_at ? { startedAt: row.started_at.toISOString() } : {}),
    ...(row.finished_at ? { finishedAt: row.finished_at.toISOString() } : {}),
    ...(row.worker ? { worker: row.worker } : {}),
    ...(row.attempts > 0 ? { attempts: row.attempts } : {}),
  };
}

export class PostgresJobQueue implements JobQueue {
  /** This node's name in the jobs it takes: host, process and start time, unique across restarts. */
  readonly workerId = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;
  private runner: JobRunner | undefined;
  private running: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxQueued: number,
    private readonly leaseSeconds: number,
    private readonly log: { warn(message: string): void; info(message: string): void },
  ) {}

  async assertAvailable(): Promise<void> {
    const { rows } = await this.pool.query<{ waiting: number }>(`SELECT count(*)::integer AS waiting FROM ${SHARED_SCHEMA}.jobs WHERE state = 'queued'`);
    if (rows[0]!.waiting >= this.maxQueued) throw busyError(rows[0]!.waiting);
  }

  async submit(spec: JobSpec): Promise<Job> {
    const job = newJob(spec);
    await this.pool.query(`INSERT INTO ${SHARED_SCHEMA}.jobs (id, kind, collection, state, done, total, files, parameters, created_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7)`, [
      job.id,
      job.kind,
      job.collection,
      job.progress.total,
      JSON.stringify(job.files),
      JSON.stringify(spec.parameters ?? {}),
      job.createdAt,
    ]);
    this.wake?.();
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    const { rows } = await this.pool.query<JobRow>(`SELECT * FROM ${SHARED_SCHEMA}.jobs WHERE id = $1`, [id]);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async list(query: JobListQuery): Promise<{ jobs: Job[]; total: number }> {
    const where = `WHERE ($1::text IS NULL OR collection = $1) AND ($2::text IS NULL OR state = $2)`;
    const [page, count] = await Promise.all([
      this.pool.query<JobRow>(`SELECT * FROM ${SHARED_SCHEMA}.jobs ${where} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`, [
        query.collection ?? null,
        query.state ?? null,
        query.limit,
        query.offset,
      ]),
      this.pool.query<{ total: string }>(`SELECT count(*) AS total FROM ${SHARED_SCHEMA}.jobs ${where}`, [query.collection ?? null, query.state ?? null]),
    ]);
    return { jobs: page.rows.map(toJob), total: Number(count.rows[0]!.total) };
  }

  start(runner: JobRunner): void {
    this.runner = runner;
    this.loop ??= this.work();
  }

  private async work(): Promise<void> {
    while (!this.closed) {
      let taken: JobRow | undefined;
      try {
        taken = await this.take();
      } catch (error) {
        this.log.warn(`could not take a job from the queue: ${describeError(error)}`);
      }
      if (taken) {
        this.running = this.run(taken);
        await this.running;
        this.running = undefined;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, JOB_POLL_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** The oldest waiting job, or one whose worker's lease ran out; fails those taken too often. */
  private async take(): Promise<JobRow | undefined> {
    for (;;) {
      const { rows } = await this.pool.query<JobRow>(
        `UPDATE ${SHARED_SCHEMA}.jobs SET state = 'running', worker = $1, lease_expires_at = now() + $2 * interval '1 second', started_at = coalesce(started_at, now()), attempts = attempts + 1
         WHERE id = (SELECT id FROM ${SHARED_SCHEMA}.jobs WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < now()) ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING *`,
        [this.workerId, this.leaseSeconds],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.attempts > 1) this.log.info(`job ${row.id} taken over from a worker that stopped (attempt ${row.attempts})`);
      if (row.attempts <= MAX_ATTEMPTS) return row;
      await this.pool.query(`UPDATE ${SHARED_SCHEMA}.jobs SET state = 'failed', error = $2, finished_at = now(), lease_expires_at = NULL WHERE id = $1 AND worker = $3`, [
        row.id,
        `its worker stopped ${MAX_ATTEMPTS} times before it finished; documents written before are complete: upload the rest again or reindex`,
        this.workerId,
      ]);
    }
  }

  private async run(row: JobRow): Promise<void> {
    const job = toJob(row);
    // Saves the job's progress and renews the lease; a worker whose lease another node took writes nothing more.
    const save = async (final?: { state: Job['state']; error?: string }) => {
      await this.pool.query(
        `UPDATE ${SHARED_SCHEMA}.jobs SET files = $3, done = $4, total = $5, ocr_progress = $9,
           lease_expires_at = CASE WHEN $6::text IS NULL THEN now() + $7 * interval '1 second' ELSE NULL END,
           state = coalesce($6::text, state), error = $8, finished_at = CASE WHEN $6::text IS NULL THEN NULL ELSE now() END
         WHERE id = $1 AND worker = $2`,
        [
          job.id,
          this.workerId,
          JSON.stringify(job.files),
          job.progress.done,
          job.progress.total,
          final?.state ?? null,
          this.leaseSeconds,
          final?.error ?? job.error ?? null,
          final || !job.progress.ocr ? null : JSON.stringify(job.progress.ocr),
        ],
      );
    };
    const heartbeat = setInterval(
      () =>
        void this.pool
          .query(`UPDATE ${SHARED_SCHEMA}.jobs SET lease_expires_at = now() + $3 * interval '1 second' WHERE id = $1 AND worker = $2 AND state = 'running'`, [job.id, this.workerId, this.leaseSeconds])
          .catch((error: unknown) => this.log.warn(`could not renew the lease of job ${job.id}: ${describeError(error)}`)),
      (this.leaseSeconds * 1000) / 3,
    );
    heartbeat.unref();
    let final: { state: Job['state']; error?: string };
    try {
      await this.runner!(job, row.parameters, () => save());
      final = { state: finalState(job) };
    } catch (error) {
      final = { state: 'failed', error: describeError(error) };
    } finally {
      clearInterval(heartbeat);
    }
    try {
      await save(final);
    } catch (error) {
      // The lease runs out and another node takes the job over: its files' outcomes were saved as they finished.
      this.log.warn(`could not record the end of job ${job.id}: ${describeError(error)}`);
    }
  }

  async idle(): Promise<void> {
    for (;;) {
      await this.running;
      const { rows } = await this.pool.query<{ waiting: boolean }>(`SELECT exists(SELECT 1 FROM ${SHARED_SCHEMA}.jobs WHERE state = 'queued' OR (state = 'running' AND worker = $1)) AS waiting`, [
        this.workerId,
      ]);
      if (!rows[0]!.waiting && !this.running) return;
      if (!this.runner) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
  }
}
