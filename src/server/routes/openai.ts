// An OpenAI-compatible face of the knowledge base: POST /v1/chat/completions (plain and streamed) and GET /v1/models,
// so any tool that speaks the OpenAI API can ask it. The knowledge base is the model "kb-default"; the last user
// message is the question and earlier turns are the history; answers carry [n] markers in the text and the sources
// in an extra `citations` field (on the response, and on the last chunk of a stream). Each collection is a model:
// "kb-<collection>".
import { sourcesOf } from '../../feedback/feedback-store.ts';
import { curatedAnswerFor, type CuratedAnswerStore } from '../../curated/curated-answers.ts';
import type { AnswerResult } from '../../answer/types.ts';

/** A curated answer as the parts of a stream: the whole text at once, then done. */
async function* curatedParts(result: AnswerResult): AsyncGenerator<{ type: 'delta'; text: string } | { type: 'done'; result: AnswerResult }> {
  yield { type: 'delta', text: result.answer };
  yield { type: 'done', result };
}
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KbError, isKbError } from '../../errors.ts';
import type { AnswerLog } from '../../components.ts';
import { countTokens } from '../../text/tokenize.ts';
import type { KnowledgeBaseHolder } from '../knowledge-base-holder.ts';
import type { OriginalFiles } from '../../files/original-files.ts';
import type { CollectionRegistry } from '../../collections/registry.ts';
import { readScopeOf, type Access } from '../access/access.ts';
import { withFileLinks } from './citation-links.ts';
import { citationSchema, errorResponseSchema } from '../schemas.ts';
import { abortWhenClientLeaves, openEventStream } from '../event-stream.ts';

const contentSchema = z.union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() }).loose())]);
const chatRequestSchema = z
  .object({
    model: z.string().min(1).max(200),
    messages: z
      .array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']), content: contentSchema.nullable().optional() }).loose())
      .min(1)
      .max(50),
    stream: z.boolean().optional(),
    /** With include_usage, a stream ends with a chunk that has no choices and the token counts (as OpenAI's does). */
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
  })
  .loose();

const chatResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.object({ index: z.number().int(), message: z.object({ role: z.literal('assistant'), content: z.string() }), finish_reason: z.string() })),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }),
  citations: z.array(citationSchema),
  kb: z.object({ answerId: z.string(), answerable: z.boolean(), kind: z.enum(['answer', 'smalltalk', 'not_found']), confidence: z.number() }),
});

const modelsResponseSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() })),
});

function textOf(content: z.infer<typeof contentSchema> | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join('');
}

export const openAiRoutes: FastifyPluginAsyncZod<{
  holder: KnowledgeBaseHolder;
  feedback: AnswerLog;
  registry: CollectionRegistry;
  access: Access;
  files: OriginalFiles;
  curated: CuratedAnswerStore;
}> = async (app, { holder, feedback, registry, access, files, curated }) => {
  app.get(
    '/v1/models',
    { config: { access: 'query' as const }, schema: { tags: ['openai'], summary: 'Knowledge bases available as OpenAI models', response: { 200: modelsResponseSchema, 401: errorResponseSchema } } },
    async () => ({
      object: 'list' as const,
      data: registry
        .list()
        .map((collection) => ({ id: `kb-${collection.name}`, object: 'model' as const, created: collection.createdAt ? Math.floor(Date.parse(collection.createdAt) / 1000) : 0, owned_by: 'kb-qa' })),
    }),
  );

  app.post(
    '/v1/chat/completions',
    {
      config: { access: 'query' as const },
      schema: {
        tags: ['openai'],
        summary: 'OpenAI-compatible chat completions answered from the knowledge base (stream or not)',
        body: chatRequestSchema,
        response: { 200: chatResponseSchema, 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const collection = body.model.startsWith('kb-') ? body.model.slice(3) : '';
      if (!(await registry.lookup(collection))) throw new KbError('KB_ERR_UNKNOWN_MODEL', { model: body.model });
      const scope = readScopeOf(request, [collection]);
      const turns = body.messages
        .filter((message) => message.role === 'user' || message.role === 'assistant')
        .map((message) => ({ role: message.role as 'user' | 'assistant', content: textOf(message.content) }));
      const last = turns.at(-1);
      if (!last || last.role !== 'user' || !last.content.trim()) throw new KbError('KB_ERR_VALIDATION', { details: 'messages: the last message must be a non-empty user message' });
      const question = last.content.slice(0, 4000);
      const history = turns
        .slice(0, -1)
        .filter((turn) => turn.content.trim())
        .slice(-20)
        .map((turn) => ({ ...turn, content: turn.content.slice(0, 8000) }));
      const knowledgeBase = await holder.forCollection(collection);
      const id = `chatcmpl-${randomUUID()}`;
      const answerId = randomUUID();
      const created = Math.floor(Date.now() / 1000);
      const signal = abortWhenClientLeaves(reply);
      const input = { question, scope, ...(history.length > 0 ? { history } : {}), signal };

      const promptTokens = countTokens(question) + history.reduce((sum, turn) => sum + countTokens(turn.content), 0);
      const usageOf = (answer: string) => {
        const completionTokens = countTokens(answer);
        return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
      };
      // A curated answer of the team comes first, as on /v1/ask.
      const curatedResult = await curatedAnswerFor(curated, [{ name: collection, knowledgeBase }], question, scope);
      if (!body.stream) {
        const result = curatedResult ?? (await knowledgeBase.ask(input));
        await feedback.recordAnswer({
          id: answerId,
          question,
          answer: result.answer,
          answerable: result.answerable,
          user: undefined,
          origin: undefined,
          collection,
          kind: result.kind,
          confidence: result.confidence,
          sources: sourcesOf(result.citations),
        });
        return {
          id,
          object: 'chat.completion' as const,
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant' as const, content: result.answer }, finish_reason: 'stop' }],
          usage: usageOf(result.answer),
          citations: await withFileLinks(result.citations, [{ name: collection, knowledgeBase }], access.fileLinks, files),
          kb: { answerId, answerable: result.answerable, kind: result.kind, confidence: result.confidence },
        };
      }

      openEventStream(request, reply);
      const includeUsage = body.stream_options?.include_usage === true;
      const frame = (fields: Record<string, unknown>) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, ...fields })}\n\n`;
      const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
        frame({ choices: [{ index: 0, delta, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}), ...extra });
      reply.raw.write(chunk({ role: 'assistant', content: '' }, null));
      try {
        const parts = curatedResult ? curatedParts(curatedResult) : knowledgeBase.askStream(input);
        for await (const part of parts) {
          if (signal.aborted) break;
          if (part.type === 'delta') reply.raw.write(chunk({ content: part.text }, null));
          else if (part.type === 'done') {
            await feedback.recordAnswer({
              id: answerId,
              question,
              answer: part.result.answer,
              answerable: part.result.answerable,
              user: undefined,
              origin: undefined,
              collection,
              kind: part.result.kind,
              confidence: part.result.confidence,
              sources: sourcesOf(part.result.citations),
            });
            reply.raw.write(
              chunk({}, 'stop', {
                citations: await withFileLinks(part.result.citations, [{ name: collection, knowledgeBase }], access.fileLinks, files),
                kb: { answerId, answerable: part.result.answerable, kind: part.result.kind, confidence: part.result.confidence },
              }),
            );
            if (includeUsage) reply.raw.write(frame({ choices: [], usage: usageOf(part.result.answer) }));
          }
        }
        reply.raw.write('data: [DONE]\n\n');
      } catch (error) {
        const failure = isKbError(error) ? error : new KbError('KB_ERR_INTERNAL', { requestId: request.id }, { cause: error });
        request.log.error({ err: error }, 'chat completion stream failed');
        reply.raw.write(`data: ${JSON.stringify({ error: { message: failure.message, type: 'server_error', code: failure.code } })}\n\n`);
      }
      reply.raw.end();
    },
  );
};
