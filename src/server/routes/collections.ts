// Collections: several named knowledge bases in one service (POST/GET/DELETE /v1/collections), each with its own
// index and settings; /v1/ask, /v1/search and the widget take a `collection`.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionSettingsSchema, type CollectionRegistry } from '../../collections/registry.ts';
import { KbError } from '../../errors.ts';
import type { JobQueue } from '../../jobs/types.ts';
import type { OriginalFiles } from '../../files/original-files.ts';
import { errorResponseSchema } from '../schemas.ts';
import type { Config } from '../../config.ts';
import { isModelInstalled } from '../../embed/transformers.ts';

const collectionSchema = z.object({
  name: z.string(),
  settings: collectionSettingsSchema,
  createdAt: z.string().optional(),
  documents: z.number().int().optional(),
  chunks: z.number().int().optional(),
  embedder: z.string().optional(),
});

export const collectionRoutes: FastifyPluginAsyncZod<{ registry: CollectionRegistry; jobs: JobQueue; files: OriginalFiles; config: Readonly<Config> }> = async (
  app,
  { registry, jobs, files, config },
) => {
  const describe = async (name: string) => {
    const info = registry.find(name)!;
    const knowledgeBase = await registry.get(name).catch(() => undefined);
    return {
      name: info.name,
      settings: info.settings,
      ...(info.createdAt ? { createdAt: info.createdAt } : {}),
      ...(knowledgeBase
        ? { documents: await knowledgeBase.storage.documents.documentCount(), chunks: (await knowledgeBase.storage.keywords.statistics()).chunkCount, embedder: knowledgeBase.embedder.id }
        : {}),
    };
  };

  app.post(
    '/v1/collections',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['collections'],
        summary: 'Create a collection',
        body: z.strictObject({ name: z.string().min(1).max(64), settings: collectionSettingsSchema.optional() }),
        response: { 201: collectionSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 409: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const info = await registry.create(request.body.name, request.body.settings ?? {});
      return reply.status(201).send(await describe(info.name));
    },
  );

  app.get(
    '/v1/collections',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['collections'],
        summary: 'List collections with their sizes',
        response: { 200: z.object({ collections: z.array(collectionSchema) }), 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async () => ({ collections: await Promise.all(registry.list().map((info) => describe(info.name))) }),
  );

  app.post(
    '/v1/collections/:collection/embedder',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['collections'],
        summary: 'Switch the embedding model: vectors are rebuilt in the background and swapped in when done (a job)',
        params: z.object({ collection: z.string().min(1).max(64) }),
        body: z.strictObject({ embedder: z.enum(['auto', 'builtin', 'transformers']), embeddingModel: z.string().min(1).max(200).optional() }),
        response: {
          202: z.object({ job: z.object({ id: z.string(), state: z.string() }) }),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          409: errorResponseSchema,
          503: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      if (!(await registry.lookup(collection))) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection });
      if (collection === 'default')
        throw new KbError('KB_ERR_CONFLICT', { details: 'the default collection follows KB_EMBEDDER and KB_EMBEDDING_MODEL: change them and rebuild, or use a named collection' });
      // A model that is not installed is refused now, not by a background job that fails a minute later.
      const { embedder, embeddingModel } = request.body;
      const model = embeddingModel ?? config.embeddingModel;
      const needsModel = embedder === 'transformers' || (embedder === 'auto' && embeddingModel !== undefined);
      if (needsModel && !config.allowRemoteModels && !isModelInstalled(config.modelsDir, model)) {
        throw new KbError('KB_ERR_VALIDATION', {
          details: `body.embeddingModel: the model ${model} is not installed in ${config.modelsDir} (see the README, "Installing a real embedding model"); installed models are sub-folders there`,
        });
      }
      await jobs.assertAvailable();
      const change = { embedder: request.body.embedder, ...(request.body.embeddingModel ? { embeddingModel: request.body.embeddingModel } : {}) };
      const job = await jobs.submit({ kind: 'reembed', collection, files: [], parameters: { embedderChange: change } });
      return reply
        .status(202)
        .header('location', `/v1/jobs/${job.id}`)
        .send({ job: { id: job.id, state: job.state } });
    },
  );

  app.delete(
    '/v1/collections/:collection',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['collections'],
        summary: 'Delete a collection with its index and files',
        params: z.object({ collection: z.string().min(1).max(64) }),
        response: { 204: z.null(), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      if (!(await registry.delete(request.params.collection))) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: request.params.collection });
      await files.removeCollection(request.params.collection);
      return reply.status(204).send(null);
    },
  );
};
