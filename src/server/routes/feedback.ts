// POST /v1/feedback: a thumbs up or down (and an optional comment) on an answer, by its answerId; GET lists them.
import { knowledgeGaps } from '../../feedback/knowledge-gaps.ts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KbError } from '../../errors.ts';
import type { AnswerLog } from '../../components.ts';
import { errorResponseSchema, feedbackBodySchema, feedbackResponseSchema } from '../schemas.ts';

export const feedbackRoutes: FastifyPluginAsyncZod<{ feedback: AnswerLog }> = async (app, { feedback }) => {
  app.post(
    '/v1/feedback',
    {
      config: { access: 'query' as const },
      schema: {
        tags: ['feedback'],
        summary: 'Rate an answer (thumbs up or down, optional comment)',
        body: feedbackBodySchema,
        response: { 201: feedbackResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { answerId, rating, comment } = request.body;
      if (!(await feedback.hasAnswer(answerId))) throw new KbError('KB_ERR_UNKNOWN_ANSWER', { answerId });
      await feedback.recordFeedback(answerId, rating, comment);
      return reply.status(201).send({ status: 'recorded' as const });
    },
  );
};

export const feedbackAdminRoutes: FastifyPluginAsyncZod<{ feedback: AnswerLog; answerThreshold: number }> = async (app, { feedback, answerThreshold }) => {
  app.get(
    '/v1/feedback',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'List feedback on answers, newest first (admin)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).max(1_000_000).default(0) }),
        response: {
          200: z.object({
            feedback: z.array(z.object({ answerId: z.string(), rating: z.enum(['up', 'down']), comment: z.string().optional(), createdAt: z.string(), question: z.string(), answer: z.string() })),
          }),
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request) => ({ feedback: await feedback.listFeedback(request.query.limit, request.query.offset) }),
  );

  app.get(
    '/v1/knowledge-gaps',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'Refused and low-confidence questions grouped by what they ask, largest group first, with recent examples (admin)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          since: z.iso.datetime({ offset: true }).optional(),
          collection: z.string().min(1).max(64).optional(),
        }),
        response: {
          200: z.object({
            gaps: z.array(
              z.object({
                question: z.string().describe('the most recent question of the group'),
                count: z.number().int(),
                refused: z.number().int(),
                lowConfidence: z.number().int(),
                lastAskedAt: z.string(),
                examples: z.array(z.object({ answerId: z.string(), question: z.string(), createdAt: z.string(), confidence: z.number().optional(), refused: z.boolean() })),
              }),
            ),
          }),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { limit, since, collection } = request.query;
      return {
        gaps: await knowledgeGaps(feedback, {
          limit,
          answerThreshold,
          ...(since ? { since: new Date(since).toISOString() } : {}),
          ...(collection ? { collection } : {}),
        }),
      };
    },
  );

  const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');
  app.get(
    '/v1/conversations',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['feedback'],
        summary: 'The conversation log: questions and answers newest first, with sources, confidence and feedback, filtered (admin)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          refused: booleanQuery.optional().describe('true: only "not in the knowledge base" answers; false: only the others'),
          confidenceBelow: z.coerce.number().min(0).max(1).optional().describe('only answers with a lower confidence (low-confidence review)'),
          rating: z.enum(['up', 'down']).optional().describe('only answers with this feedback'),
          since: z.iso.datetime({ offset: true }).optional(),
          until: z.iso.datetime({ offset: true }).optional(),
          collection: z.string().min(1).max(64).optional(),
        }),
        response: {
          200: z.object({
            conversations: z.array(
              z.object({
                id: z.string().describe('the answerId'),
                question: z.string(),
                answer: z.string(),
                answerable: z.boolean(),
                kind: z.enum(['answer', 'smalltalk', 'not_found']).optional(),
                confidence: z.number().optional(),
                collection: z.string().optional().describe('the collections asked, comma-separated'),
                sources: z.array(z.object({ documentId: z.string(), title: z.string(), source: z.string(), page: z.number().int().optional() })).optional(),
                user: z.string().optional().describe('the end user, when the host page vouched for one'),
                origin: z.string().optional(),
                createdAt: z.string(),
                rating: z.enum(['up', 'down']).optional(),
                comment: z.string().optional(),
              }),
            ),
            total: z.number().int(),
          }),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { limit, offset, refused, confidenceBelow, rating, since, until, collection } = request.query;
      return feedback.listConversations({
        limit,
        offset,
        ...(refused !== undefined ? { refused } : {}),
        ...(confidenceBelow !== undefined ? { confidenceBelow } : {}),
        ...(rating ? { rating } : {}),
        ...(since ? { since: new Date(since).toISOString() } : {}),
        ...(until ? { until: new Date(until).toISOString() } : {}),
        ...(collection ? { collection } : {}),
      });
    },
  );
};
