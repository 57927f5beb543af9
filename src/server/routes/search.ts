// POST /v1/search: hybrid retrieval without an answer, for clients that build their own UI or prompt.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorResponseSchema, searchBodySchema, searchResponseSchema } from '../schemas.ts';
import type { KnowledgeBaseHolder } from '../knowledge-base-holder.ts';
import { readScopeOf } from '../access/access.ts';
import { toRetrievalFilters } from './filters.ts';

/** Results returned when the request does not say (1..100). */
const DEFAULT_SEARCH_RESULTS = 10;

export const searchRoutes: FastifyPluginAsyncZod<{ holder: KnowledgeBaseHolder }> = async (app, { holder }) => {
  app.post(
    '/v1/search',
    {
      config: { access: 'query' as const },
      schema: {
        tags: ['query'],
        summary: 'Search the knowledge base (BM25 + vectors, fused)',
        body: searchBodySchema,
        response: { 200: searchResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 429: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request) => {
      const { query, topK, filters, collection, collections, expand } = request.body;
      const { primary: knowledgeBase, others, names } = await holder.forRequest(collection, collections);
      const scope = readScopeOf(request, names);
      const retrieval = await knowledgeBase.search(query, topK ?? DEFAULT_SEARCH_RESULTS, scope, toRetrievalFilters(filters), others, { expand: expand ?? false });
      return {
        results: retrieval.chunks.map((chunk) => ({
          chunkId: `${chunk.documentKey}:${chunk.ordinal}`,
          documentId: chunk.documentKey,
          title: chunk.title,
          source: chunk.source,
          ...(chunk.page !== undefined ? { page: chunk.page } : {}),
          ...(chunk.ocr ? { ocr: true as const } : {}),
          ...(chunk.url ? { url: chunk.url } : {}),
          ...(chunk.headings.length > 0 ? { headings: chunk.headings } : {}),
          text: chunk.text,
          score: Math.round(chunk.score * 10000) / 10000,
        })),
        confidence: Math.round(retrieval.confidence * 1000) / 1000,
        timings: { totalMs: Math.round(retrieval.timings.totalMs * 10) / 10 },
      };
    },
  );
};
