// POST /v1/feedback: a thumbs up or down (and an optional comment) on an answer, by its answerId.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { KbError } from '../../errors.ts';
import type { FeedbackStore } from '../../feedback/feedback-store.ts';
import { errorResponseSchema, feedbackBodySchema, feedbackResponseSchema } from '../schemas.ts';

export const feedbackRoutes: FastifyPluginAsyncZod<{ feedback: FeedbackStore }> = async (app, { feedback }) => {
  app.post(
    '/v1/feedback',
    {
      config: { authenticate: true },
      schema: {
        tags: ['feedback'],
        summary: 'Rate an answer (thumbs up or down, optional comment)',
        body: feedbackBodySchema,
        response: { 201: feedbackResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { answerId, rating, comment } = request.body;
      if (!feedback.hasAnswer(answerId)) throw new KbError('KB_ERR_UNKNOWN_ANSWER', { answerId });
      feedback.recordFeedback(answerId, rating, comment);
      return reply.status(201).send({ status: 'recorded' as const });
    },
  );
};
