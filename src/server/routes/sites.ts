// Websites as sources of a collection: a crawl now (a job, like an upload), and re-syncs on a schedule
// (sync/schedules.ts), each of which starts such a job when due.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CollectionRegistry } from '../../collections/registry.ts';
import { KbError } from '../../errors.ts';
import { DEFAULT_SITE_SYNC_LIMITS } from '../../ingest/site-sync.ts';
import type { JobQueue } from '../../jobs/types.ts';
import type { SyncScheduleStore } from '../../sync/schedules.ts';
import { assertCollectionAllowed } from '../access/access.ts';
import { errorResponseSchema } from '../schemas.ts';
import { jobSchema } from './jobs.ts';

const webAddress = z
  .string()
  .max(2000)
  .refine(
    (value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: 'must be an http or https address' },
  )
  .describe('the start page; pages of its host are followed (robots.txt obeyed, sitemap.xml read)');

const crawlBody = z.strictObject({
  url: webAddress,
  maxDepth: z.number().int().min(0).max(100).default(DEFAULT_SITE_SYNC_LIMITS.maxDepth).describe('links followed from the start page at most'),
  maxPages: z.number().int().min(1).max(100_000).default(DEFAULT_SITE_SYNC_LIMITS.maxPages).describe('pages requested at most'),
  delayMs: z.number().int().min(0).max(60_000).default(DEFAULT_SITE_SYNC_LIMITS.delayMs).describe('pause between two requests to the site (ms)'),
});

const scheduleSchema = z.object({
  id: z.string(),
  collection: z.string(),
  url: z.string(),
  maxDepth: z.number().int(),
  maxPages: z.number().int(),
  delayMs: z.number().int(),
  everyMinutes: z.number().int(),
  createdAt: z.string(),
  nextRunAt: z.string().describe('when the next re-sync is due (the first is due at once)'),
  lastJobId: z.string().optional().describe('the crawl job of the last re-sync started'),
});

const collectionParams = z.object({ collection: z.string().min(1).max(64) });

export const siteRoutes: FastifyPluginAsyncZod<{ registry: CollectionRegistry; jobs: JobQueue; schedules: SyncScheduleStore }> = async (app, { registry, jobs, schedules }) => {
  const knownCollection = async (request: Parameters<typeof assertCollectionAllowed>[0], collection: string) => {
    assertCollectionAllowed(request, collection);
    if (!(await registry.lookup(collection))) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection });
  };

  app.post(
    '/v1/collections/:collection/crawls',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: "Crawl a website into the collection now (a job): new and changed pages indexed, vanished ones removed; each page's URL is its citation link",
        params: collectionParams,
        body: crawlBody,
        response: { 202: z.object({ job: jobSchema }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      await knownCollection(request, collection);
      await jobs.assertAvailable();
      const { url, ...limits } = request.body;
      const job = await jobs.submit({ kind: 'crawl', collection, files: [], parameters: { crawl: { url, ...limits } } });
      return reply.status(202).header('location', `/v1/jobs/${job.id}`).send({ job });
    },
  );

  app.get(
    '/v1/collections/:collection/sync-schedules',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: "The collection's scheduled website re-syncs",
        params: collectionParams,
        response: { 200: z.object({ schedules: z.array(scheduleSchema) }), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      await knownCollection(request, request.params.collection);
      return { schedules: await schedules.list(request.params.collection) };
    },
  );

  app.post(
    '/v1/collections/:collection/sync-schedules',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Re-sync a website into the collection every so often (the first run at once): each run is a crawl job',
        params: collectionParams,
        body: crawlBody.extend({ everyMinutes: z.number().int().min(1).max(525_600).describe('minutes between two re-syncs (e.g. 1440: daily)') }),
        response: { 201: z.object({ schedule: scheduleSchema }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      await knownCollection(request, collection);
      const schedule = await schedules.add({ collection, ...request.body });
      return reply.status(201).send({ schedule });
    },
  );

  app.delete(
    '/v1/collections/:collection/sync-schedules/:id',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Stop a scheduled re-sync (its pages stay indexed)',
        params: collectionParams.extend({ id: z.string().min(1).max(100) }),
        response: { 204: z.null().describe('deleted'), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection, id } = request.params;
      await knownCollection(request, collection);
      if (!(await schedules.remove(collection, id))) throw new KbError('KB_ERR_UNKNOWN_SCHEDULE', { scheduleId: id, collection });
      return reply.status(204).send(null);
    },
  );
};
