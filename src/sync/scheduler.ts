// Starts the crawl job of each scheduled re-sync when it is due (sync/schedules.ts). Every node runs one: the store
// hands each due schedule to one of them. A schedule whose collection was deleted is deleted with it.
import { describeError, isKbError } from '../errors.ts';
import type { JobQueue } from '../jobs/types.ts';
import type { SyncScheduleStore } from './schedules.ts';

export interface SyncSchedulerOptions {
  schedules: SyncScheduleStore;
  jobs: JobQueue;
  collectionExists: (name: string) => Promise<boolean>;
  /** How often due schedules are looked for (KB_SYNC_CHECK_SECONDS). */
  checkMilliseconds: number;
  log: { info(message: string): void; warn(message: string): void };
}

export function startSyncScheduler(options: SyncSchedulerOptions): { stop(): Promise<void>; tick(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = async () => {
    const due = await options.schedules.claimDue(new Date());
    for (const schedule of due) {
      if (!(await options.collectionExists(schedule.collection))) {
        await options.schedules.remove(schedule.collection, schedule.id);
        options.log.info(`sync schedule ${schedule.id} removed: its collection ${schedule.collection} no longer exists`);
        continue;
      }
      try {
        const job = await options.jobs.submit({
          kind: 'crawl',
          collection: schedule.collection,
          files: [],
          parameters: { crawl: { url: schedule.url, maxDepth: schedule.maxDepth, maxPages: schedule.maxPages, delayMs: schedule.delayMs } },
        });
        await options.schedules.recordJob(schedule.id, job.id);
        options.log.info(`sync schedule ${schedule.id}: crawl job ${job.id} for ${schedule.url} into ${schedule.collection}`);
      } catch (error) {
        // A full queue (KB_ERR_BUSY) skips this run; the schedule stays, due again after its interval.
        options.log.warn(`sync schedule ${schedule.id} could not start its crawl (${isKbError(error) ? error.code : ''} ${describeError(error)}); next run at ${schedule.nextRunAt}`);
      }
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(tick).catch((error: unknown) => options.log.warn(`sync schedules could not be checked: ${describeError(error)}`));
  }, options.checkMilliseconds);
  timer.unref();
  return {
    tick: () => (running = running.then(tick)),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
