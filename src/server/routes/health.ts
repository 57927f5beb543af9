// Liveness (the process answers) and readiness (the index is loaded and can serve queries).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { healthResponseSchema, readyResponseSchema } from '../schemas.ts';
import type { KnowledgeBaseHolder } from '../knowledge-base-holder.ts';
import type { Components } from '../../components.ts';
import { describeError } from '../../errors.ts';

export const healthRoutes: FastifyPluginAsyncZod<{ holder: KnowledgeBaseHolder; components: Components }> = async (app, { holder, components }) => {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: healthResponseSchema } } }, async () => ({ status: 'ok' as const }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'Readiness: 200 when the index is loaded', response: { 200: readyResponseSchema, 503: readyResponseSchema } } },
    async (_request, reply) => {
      const knowledgeBase = holder.peek();
      if (!knowledgeBase) {
        const message = holder.failureMessage;
        return reply.status(503).send({ status: holder.state === 'failed' ? ('failed' as const) : ('loading' as const), ...(message ? { message } : {}) });
      }
      // A node whose database cannot be reached is not ready: a load balancer sends its requests to the others.
      let sharedState;
      try {
        sharedState = await components.describe();
      } catch (error) {
        return reply.status(503).send({ status: 'failed' as const, sharedState: { backend: 'postgresql' as const, database: 'unreachable' as const, message: describeError(error) } });
      }
      const statistics = await knowledgeBase.storage.keywords.statistics();
      return {
        status: 'ready' as const,
        documents: await knowledgeBase.storage.documents.documentCount(),
        chunks: statistics.chunkCount,
        embedder: knowledgeBase.embedder.id,
        answerer: knowledgeBase.model?.id ?? 'extractive',
        storage: await knowledgeBase.storage.describe(),
        sharedState,
      };
    },
  );
};
