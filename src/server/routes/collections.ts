// Collections: several named knowledge bases in one service (POST/GET/DELETE /v1/collections), each with its own
// index and settings; /v1/ask, /v1/search and the widget take a `collection`.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { collectionSettingsSchema, type CollectionRegistry } from '../../collections/registry.ts';
import { KbError } from '../../errors.ts';
import { errorResponseSchema } from '../schemas.ts';

const collectionSchema = z.object({
  name: z.string(),
  settings: collectionSettingsSchema,
  createdAt: z.string().optional(),
  documents: z.number().int().optional(),
  chunks: z.number().int().optional(),
  embedder: z.string().optional(),
});

export const collectionRoutes: FastifyPluginAsyncZod<{ registry: CollectionRegistry }> = async (app, { registry }) => {
  const describe = async (name: string) => {
    const info = registry.find(name)!;
    const knowledgeBase = await registry.get(name).catch(() => undefined);
    return {
      name: info.name,
      settings: info.settings,
      ...(info.createdAt ? { createdAt: info.createdAt } : {}),
      ...(knowledgeBase ? { documents: knowledgeBase.store.listDocuments().length, chunks: knowledgeBase.store.keywordStatistics().chunkCount, embedder: knowledgeBase.embedder.id } : {}),
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
    { config: { access: 'admin' as const }, schema: { tags: ['collections'], summary: 'List collections with their sizes', response: { 200: z.object({ collections: z.array(collectionSchema) }), 401: errorResponseSchema, 403: errorResponseSchema } } },
    async () => ({ collections: await Promise.all(registry.list().map((info) => describe(info.name))) }),
  );

  app.delete(
    '/v1/collections/:collection',
    {
      config: { access: 'admin' as const },
      schema: { tags: ['collections'], summary: 'Delete a collection with its index and files', params: z.object({ collection: z.string().min(1).max(64) }), response: { 204: z.null(), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema } },
    },
    async (request, reply) => {
      if (!(await registry.delete(request.params.collection))) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: request.params.collection });
      return reply.status(204).send(null);
    },
  );
};
