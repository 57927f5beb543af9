// Scheduled re-syncs: a collection's website crawled again every so often, so that changed pages are reindexed and
// vanished ones removed without anyone asking. The schedules live with the deployment's other state: a versioned
// JSON file in the data directory (one process), or a table of the shared database, where taking a due schedule is
// one UPDATE … RETURNING, so that of several nodes exactly one starts each run.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { VersionedJsonFile } from '../store/versioned-json-file.ts';

export interface SyncScheduleInput {
  collection: string;
  url: string;
  maxDepth: number;
  maxPages: number;
  delayMs: number;
  /** Minutes between two runs (1..525600). */
  everyMinutes: number;
}

export interface SyncSchedule extends SyncScheduleInput {
  id: string;
  createdAt: string;
  /** When the next run is due (the first is due at once). */
  nextRunAt: string;
  /** The crawl job of the last run started. */
  lastJobId?: string;
}

export interface SyncScheduleStore {
  list(collection?: string): Promise<SyncSchedule[]>;
  add(input: SyncScheduleInput): Promise<SyncSchedule>;
  remove(collection: string, id: string): Promise<boolean>;
  /** Schedules due at `now`, each moved to its next run at once, so that no other tick or node takes it as well. */
  claimDue(now: Date): Promise<SyncSchedule[]>;
  recordJob(id: string, jobId: string): Promise<void>;
}

const FORMAT_VERSION = 1;
const scheduleSchema = z.object({
  id: z.string(),
  collection: z.string(),
  url: z.string(),
  maxDepth: z.number().int(),
  maxPages: z.number().int(),
  delayMs: z.number().int(),
  everyMinutes: z.number().int().positive(),
  createdAt: z.string(),
  nextRunAt: z.string(),
  lastJobId: z.string().optional(),
});
const fileSchema = z.object({ schedules: z.array(scheduleSchema) });

function nextRun(schedule: Pick<SyncSchedule, 'everyMinutes'>, from: Date): string {
  return new Date(from.getTime() + schedule.everyMinutes * 60_000).toISOString();
}

/** sync-schedules.json in the data directory. */
export class FileSyncScheduleStore implements SyncScheduleStore {
  private readonly file: VersionedJsonFile<{ schedules: SyncSchedule[] }>;

  constructor(dataDir: string) {
    this.file = new VersionedJsonFile(path.join(dataDir, 'sync-schedules.json'), fileSchema, FORMAT_VERSION);
  }

  private read(): SyncSchedule[] {
    return this.file.read()?.schedules ?? [];
  }

  private write(schedules: SyncSchedule[]): void {
    this.file.write({ schedules });
  }

  async list(collection?: string): Promise<SyncSchedule[]> {
    return this.read().filter((schedule) => collection === undefined || schedule.collection === collection);
  }

  async add(input: SyncScheduleInput): Promise<SyncSchedule> {
    const now = new Date().toISOString();
    const schedule: SyncSchedule = { ...input, id: randomUUID(), createdAt: now, nextRunAt: now };
    this.write([...this.read(), schedule]);
    return schedule;
  }

  async remove(collection: string, id: string): Promise<boolean> {
    const schedules = this.read();
    const kept = schedules.filter((schedule) => !(schedule.id === id && schedule.collection === collection));
    if (kept.length === schedules.length) return false;
    this.write(kept);
    return true;
  }

  async claimDue(now: Date): Promise<SyncSchedule[]> {
    const schedules = this.read();
    const due = schedules.filter((schedule) => Date.parse(schedule.nextRunAt) <= now.getTime());
    if (due.length === 0) return [];
    for (const schedule of due) schedule.nextRunAt = nextRun(schedule, now);
    this.write(schedules);
    return due;
  }

  async recordJob(id: string, jobId: string): Promise<void> {
    const schedules = this.read();
    const schedule = schedules.find((entry) => entry.id === id);
    if (!schedule) return;
    schedule.lastJobId = jobId;
    this.write(schedules);
  }
}
