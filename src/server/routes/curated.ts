// Curated answers of a collection (curated/curated-answers.ts): made by hand or promoted from the conversation log
// (a thumbs-down answer, corrected), listed, edited and deleted by admins; /v1/ask gives them before retrieval.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CollectionRegistry } from '../../collections/registry.ts';
import type { AnswerLog } from '../../components.ts';
import type { CuratedAnswerStore } from '../../curated/curated-answers.ts';
import { KbError } from '../../errors.ts';
import { assertCollectionAllowed } from '../access/access.ts';
import { errorResponseSchema } from '../schemas.ts';

const sourceSchema = z.object({ documentId: z.string().min(1).max(200), title: z.string().max(500), source: z.string().max(2000), page: z.number().int().min(1).optional() });
const curatedSchema = z.object({
  id: z.string(),
  collection: z.string(),
  question: z.string(),
  answer: z.string(),
  sources: z.array(sourceSchema),
  fromAnswerId: z.string().optional().describe('the logged answer it was promoted from'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const text = (maximum: number) => z.string().trim().min(1).max(maximum);
const collectionParams = z.object({ collection: z.string().min(1).max(64) });
const entryParams = collectionParams.extend({ id: z.string().min(1).max(100) });

export const curatedRoutes: FastifyPluginAsyncZod<{ registry: CollectionRegistry; curated: CuratedAnswerStore; feedback: AnswerLog }> = async (app, { registry, curated, feedback }) => {
  const knownCollection = async (request: Parameters<typeof assertCollectionAllowed>[0], collection: string) => {
    assertCollectionAllowed(request, collection);
    if (!(await registry.lookup(collection))) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection });
  };
  const notFound = (collection: string, id: string) => new KbError('KB_ERR_UNKNOWN_CURATED', { curatedId: id, collection });

  app.get(
    '/v1/collections/:collection/curated-answers',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: "The collection's curated answers (given before retrieval for the same or a paraphrased question)",
        params: collectionParams,
        response: { 200: z.object({ curatedAnswers: z.array(curatedSchema) }), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      await knownCollection(request, request.params.collection);
      return { curatedAnswers: await curated.list(request.params.collection) };
    },
  );

  app.post(
    '/v1/collections/:collection/curated-answers',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'Add a curated answer: a question and its reviewed answer, or a logged answer (fromAnswerId) promoted, with the question, answer or sources changed',
        params: collectionParams,
        body: z
          .strictObject({
            fromAnswerId: z.string().min(1).max(100).optional().describe('an answerId of the conversation log: its question, answer and sources are the defaults'),
            question: text(2000).optional(),
            answer: text(20_000).optional(),
            sources: z.array(sourceSchema).max(20).optional(),
          })
          .refine((body) => body.fromAnswerId !== undefined || (body.question !== undefined && body.answer !== undefined), { message: 'give question and answer, or fromAnswerId' }),
        response: { 201: z.object({ curatedAnswer: curatedSchema }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      await knownCollection(request, collection);
      const { fromAnswerId, question, answer, sources } = request.body;
      const logged = fromAnswerId !== undefined ? await feedback.getAnswer(fromAnswerId) : undefined;
      if (fromAnswerId !== undefined && !logged) throw new KbError('KB_ERR_UNKNOWN_ANSWER', { answerId: fromAnswerId });
      const entry = await curated.add({
        collection,
        question: question ?? logged!.question,
        answer: answer ?? logged!.answer,
        sources: sources ?? logged?.sources ?? [],
        ...(fromAnswerId !== undefined ? { fromAnswerId } : {}),
      });
      return reply.status(201).send({ curatedAnswer: entry });
    },
  );

  app.put(
    '/v1/collections/:collection/curated-answers/:id',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'Edit a curated answer',
        params: entryParams,
        body: z.strictObject({ question: text(2000), answer: text(20_000), sources: z.array(sourceSchema).max(20).default([]) }),
        response: { 200: z.object({ curatedAnswer: curatedSchema }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { collection, id } = request.params;
      await knownCollection(request, collection);
      const entry = await curated.update(collection, id, request.body);
      if (!entry) throw notFound(collection, id);
      return { curatedAnswer: entry };
    },
  );

  app.delete(
    '/v1/collections/:collection/curated-answers/:id',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'Delete a curated answer',
        params: entryParams,
        response: { 204: z.null().describe('deleted'), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection, id } = request.params;
      await knownCollection(request, collection);
      if (!(await curated.remove(collection, id))) throw notFound(collection, id);
      return reply.status(204).send(null);
    },
  );
};
