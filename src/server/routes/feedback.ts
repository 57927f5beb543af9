// POST /v1/feedback: a thumbs up or down (and an optional comment) on an answer, by its answerId; GET lists them.
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

export const feedbackAdminRoutes: FastifyPluginAsyncZod<{ feedback: AnswerLog }> = async (app, { feedback }) => {
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
};
