// Scheduled re-syncs in the shared database (sync/schedules.ts): a due schedule is taken and moved to its next run in
// one statement, so that of several nodes checking at once exactly one starts the run.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { SyncSchedule, SyncScheduleInput, SyncScheduleStore } from '../sync/schedules.ts';
import { SHARED_SCHEMA } from './postgres.ts';

interface ScheduleRow {
  id: string;
  collection: string;
  url: string;
  max_depth: number;
  max_pages: number;
  delay_ms: number;
  every_minutes: number;
  created_at: Date;
  next_run_at: Date;
  last_job_id: string | null;
}

function toSchedule(row: ScheduleRow): SyncSchedule {
  return {
    id: row.id,
    collection: row.collection,
    url: row.url,
    maxDepth: row.max_depth,
    maxPages: row.max_pages,
    delayMs: row.delay_ms,
    everyMinutes: row.every_minutes,
    createdAt: row.created_at.toISOString(),
    nextRunAt: row.next_run_at.toISOString(),
    ...(row.last_job_id ? { lastJobId: row.last_job_id } : {}),
  };
}

export class PostgresSyncScheduleStore implements SyncScheduleStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(collection?: string): Promise<SyncSchedule[]> {
    const { rows } = await this.pool.query<ScheduleRow>(`SELECT * FROM ${SHARED_SCHEMA}.sync_schedules WHERE $1::text IS NULL OR collection = $1 ORDER BY created_at`, [collection ?? null]);
    return rows.map(toSchedule);
  }

  async add(input: SyncScheduleInput): Promise<SyncSchedule> {
    const { rows } = await this.pool.query<ScheduleRow>(
      `INSERT INTO ${SHARED_SCHEMA}.sync_schedules (id, collection, url, max_depth, max_pages, delay_ms, every_minutes, created_at, next_run_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now()) RETURNING *`,
      [randomUUID(), input.collection, input.url, input.maxDepth, input.maxPages, input.delayMs, input.everyMinutes],
    );
    return toSchedule(rows[0]!);
  }

  async remove(collection: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${SHARED_SCHEMA}.sync_schedules WHERE id::text = $1 AND collection = $2`, [id, collection]);
    return (rowCount ?? 0) > 0;
  }

  async claimDue(now: Date): Promise<SyncSchedule[]> {
    const { rows } = await this.pool.query<ScheduleRow>(
      `UPDATE ${SHARED_SCHEMA}.sync_schedules SET next_run_at = $1::timestamptz + every_minutes * interval '1 minute'
       WHERE next_run_at <= $1::timestamptz RETURNING *`,
      [now.toISOString()],
    );
    return rows.map(toSchedule);
  }

  async recordJob(id: string, jobId: string): Promise<void> {
    await this.pool.query(`UPDATE ${SHARED_SCHEMA}.sync_schedules SET last_job_id = $2 WHERE id = $1`, [id, jobId]);
  }
}
