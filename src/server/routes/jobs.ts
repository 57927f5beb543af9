// Background jobs over HTTP (uploads, reindexes, crawls, model switches): the list, paged, and one job with its
// progress and the outcome of each file.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KbError } from '../../errors.ts';
import type { JobQueue } from '../../jobs/types.ts';
import { assertCollectionAllowed } from '../access/access.ts';
import { errorResponseSchema } from '../schemas.ts';

export const jobSchema = z.object({
  id: z.string(),
  kind: z.enum(['upload', 'reindex', 'reembed', 'crawl']),
  collection: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  progress: z.object({
    done: z.number().int().describe('files done'),
    total: z.number().int(),
    ocr: z.object({ file: z.string(), pages: z.number().int(), total: z.number().int() }).optional().describe('while a scanned file is read by OCR: its pages read, of the pages to read'),
  }),
  files: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      error: z.string().optional(),
      duplicateOf: z.string().optional().describe('for status duplicate: the document that already has this content'),
      warning: z.string().optional().describe('indexed, but not all of it: pages past the OCR page budget or time limit'),
    }),
  ),
  error: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  worker: z.string().optional().describe('the node that runs or ran the job'),
  attempts: z.number().int().optional().describe('times a worker took the job: above 1 when another node took it over after its worker stopped'),
});

export const jobRoutes: FastifyPluginAsyncZod<{ jobs: JobQueue }> = async (app, { jobs }) => {
  app.get(
    '/v1/jobs',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Jobs, newest first, a page at a time (a key limited to one collection sees that collection’s)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          collection: z.string().min(1).max(64).optional(),
          state: z.enum(['queued', 'running', 'succeeded', 'failed']).optional(),
        }),
        response: { 200: z.object({ jobs: z.array(jobSchema), total: z.number().int() }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request) => {
      const bound = request.principal?.kind === 'api-key' ? request.principal.collection : undefined;
      const collection = request.query.collection ?? bound;
      if (collection !== undefined) assertCollectionAllowed(request, collection);
      return jobs.list({
        limit: request.query.limit,
        offset: request.query.offset,
        ...(collection !== undefined ? { collection } : {}),
        ...(request.query.state ? { state: request.query.state } : {}),
      });
    },
  );

  app.get(
    '/v1/jobs/:jobId',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'An ingestion job: state, progress, per-file outcome',
        params: z.object({ jobId: z.uuid() }),
        response: { 200: jobSchema, 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const job = await jobs.get(request.params.jobId);
      if (!job) throw new KbError('KB_ERR_UNKNOWN_JOB', { jobId: request.params.jobId });
      assertCollectionAllowed(request, job.collection);
      return job;
    },
  );
};
