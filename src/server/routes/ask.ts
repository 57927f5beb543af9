// POST /v1/ask: a cited answer or a structured "not in the knowledge base". JSON by default; server-sent events
// (sources → delta… → done, or error) with `stream: true` or `Accept: text/event-stream`. Parts become SSE here only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { citationOf } from '../../answer/answerer.ts';
import type { AnswerLog } from '../../components.ts';
import type { OriginalFiles } from '../../files/original-files.ts';
import type { Metrics } from '../metrics.ts';
import { KbError, describeError, isKbError } from '../../errors.ts';
import { askBodySchema, askResponseSchema, errorResponseSchema } from '../schemas.ts';
import type { KnowledgeBaseHolder } from '../knowledge-base-holder.ts';
import { readScopeOf, type Access } from '../access/access.ts';
import { withFileLinks } from './citation-links.ts';
import type { AnswerResult, Citation } from '../../answer/types.ts';
import { sourcesOf } from '../../feedback/feedback-store.ts';
import { errorBody } from '../plugins/errors.ts';
import { abortWhenClientLeaves, openEventStream } from '../event-stream.ts';
import { toRetrievalFilters } from './filters.ts';
import { curatedAnswerFor, type CuratedAnswerStore } from '../../curated/curated-answers.ts';

function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const askRoutes: FastifyPluginAsyncZod<{ holder: KnowledgeBaseHolder; feedback: AnswerLog; metrics: Metrics; access: Access; files: OriginalFiles; curated: CuratedAnswerStore }> = async (
  app,
  { holder, feedback, metrics, access, files, curated },
) => {
  app.post(
    '/v1/ask',
    {
      config: { access: 'query' as const },
      schema: {
        tags: ['query'],
        summary: 'Ask a question; get a cited answer (JSON, or SSE events sources/delta/done/error)',
        body: askBodySchema,
        response: { 200: askResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 429: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { question, history, topK, filters, stream, collection, collections } = request.body;
      const { primary: knowledgeBase, others, names } = await holder.forRequest(collection, collections);
      const scope = readScopeOf(request, names);
      const asked = names.map((name, index) => ({ name, knowledgeBase: index === 0 ? knowledgeBase : others[index - 1]! }));
      const linked = (citations: Citation[]) => withFileLinks(citations, asked, access.fileLinks, files);
      // Refused before any event is sent, so the client gets a plain 503 with Retry-After.
      if (knowledgeBase.model) knowledgeBase.modelLimit.assertAvailable();
      const wantsStream = stream ?? /text\/event-stream/.test(request.headers.accept ?? '');
      const signal = abortWhenClientLeaves(reply);
      const retrievalFilters = toRetrievalFilters(filters);
      const input = {
        question,
        scope,
        ...(history ? { history } : {}),
        ...(topK ? { topK } : {}),
        ...(retrievalFilters ? { filters: retrievalFilters } : {}),
        signal,
        ...(others.length > 0 ? { alsoSearch: others } : {}),
      };

      const answerId = randomUUID();
      const principal = request.principal;
      const observe = (result: { answeredBy: string; fallback?: unknown }, timings: { retrieveMs: number; generateMs: number } | undefined) => {
        metrics.answers.inc({ answered_by: result.answeredBy, fallback: result.fallback ? 'yes' : 'no' });
        if (timings) {
          metrics.stage.observe({ stage: 'retrieve' }, timings.retrieveMs / 1000);
          metrics.stage.observe({ stage: 'generate' }, timings.generateMs / 1000);
          // Stage timings in the request log; never the question or the answer at info level.
          request.log.info({ retrieveMs: timings.retrieveMs, generateMs: timings.generateMs, answeredBy: result.answeredBy }, 'answered');
        }
      };
      const record = (result: AnswerResult) =>
        feedback.recordAnswer({
          id: answerId,
          question,
          answer: result.answer,
          answerable: result.answerable,
          user: principal?.kind === 'session' ? principal.claims.user : undefined,
          origin: principal?.kind === 'session' ? principal.claims.origin : undefined,
          collection: names.join(','),
          kind: result.kind,
          confidence: result.confidence,
          sources: sourcesOf(result.citations),
        });

      // A reviewed answer of the team comes first, for the same or a paraphrased question.
      const started = performance.now();
      const curatedResult = await curatedAnswerFor(curated, asked, question, scope);
      if (curatedResult) {
        await record(curatedResult);
        observe(curatedResult, undefined);
        const citations = await linked(curatedResult.citations);
        const timings = { retrieveMs: 0, generateMs: 0, totalMs: Math.round(performance.now() - started) };
        if (!wantsStream) return { answerId, ...curatedResult, citations, query: question, timings };
        openEventStream(request, reply);
        reply.raw.write(sseEvent('sources', { sources: citations, query: question }));
        reply.raw.write(sseEvent('delta', { text: curatedResult.answer }));
        reply.raw.write(sseEvent('done', { answerId, ...curatedResult, citations, query: question, timings }));
        reply.raw.end();
        return reply;
      }

      if (!wantsStream) {
        const result = await knowledgeBase.ask(input);
        const { retrieval, ...response } = result;
        await record(response);
        observe(response, response.timings);
        return { answerId, ...response, citations: await linked(response.citations), query: retrieval.query };
      }

      openEventStream(request, reply);
      let query = question;
      try {
        for await (const part of knowledgeBase.askStream(input)) {
          if (signal.aborted) break;
          if (part.type === 'sources') {
            query = part.retrieval.query;
            const sources = part.retrieval.answerable ? await linked(part.retrieval.chunks.map((chunk, index) => citationOf(chunk, index + 1))) : [];
            reply.raw.write(sseEvent('sources', { sources, query }));
          } else if (part.type === 'delta') {
            reply.raw.write(sseEvent('delta', { text: part.text }));
          } else {
            await record(part.result);
            observe(part.result, part.timings);
            reply.raw.write(sseEvent('done', { answerId, ...part.result, citations: await linked(part.result.citations), query, timings: part.timings }));
          }
        }
      } catch (error) {
        const failure = isKbError(error) ? error : new KbError('KB_ERR_INTERNAL', { requestId: request.id }, { cause: error });
        if (!isKbError(error)) request.log.error({ err: error }, `ask stream failed: ${describeError(error)}`);
        reply.raw.write(sseEvent('error', errorBody(failure.code, failure.message, request.id)));
      }
      reply.raw.end();
    },
  );
};
