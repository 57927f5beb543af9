// One error shape for every failure: { error: { code, message, details? }, requestId }, never a stack trace.
// Validation errors carry field-level details; a disk that is full or read-only under any route reads as such
// (storageError); unknown errors are logged in full and answered with a request id.
import type { FastifyInstance, FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { KbError, errorCatalogue, storageError, type ErrorCode } from '../../errors.ts';

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: { path: string; message: string }[]) {
  return { error: { code, message, ...(details ? { details } : {}) }, requestId };
}

export const errorsPlugin = fp(async (app: FastifyInstance, { dataDir }: { dataDir: string }) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => {
        const where = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const field = [error.validationContext, where].filter(Boolean).join('.');
        return { path: field, message: issue.message ?? 'invalid' };
      });
      const summary = details.map((detail) => `${detail.path}: ${detail.message}`).join('; ');
      const failure = new KbError('KB_ERR_VALIDATION', { details: summary });
      return reply.status(400).send(errorBody(failure.code, failure.message, request.id, details));
    }
    const prepared = (error as { kbBody?: unknown }).kbBody;
    if (prepared && typeof error.statusCode === 'number') return reply.status(error.statusCode).send(prepared);
    const known = error instanceof KbError ? error : storageError(error, dataDir);
    if (known) {
      if (known.status >= 500 && known.code !== 'KB_ERR_BUSY') request.log.error({ err: known }, known.message);
      const retryAfter = known.extra?.['retryAfter'];
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.status(known.status).send(errorBody(known.code, known.message, request.id, known.extra?.['details'] as never));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE': {
        const failure = new KbError('KB_ERR_BODY_TOO_LARGE', { limit: app.initialConfig.bodyLimit });
        return reply.status(413).send(errorBody(failure.code, failure.message, request.id));
      }
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
        const failure = new KbError('KB_ERR_UNSUPPORTED_MEDIA_TYPE', { contentType: request.headers['content-type'] ?? '(none)' });
        return reply.status(415).send(errorBody(failure.code, failure.message, request.id));
      }
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': {
        const failure = new KbError('KB_ERR_BAD_JSON', { details: error.message });
        return reply.status(400).send(errorBody(failure.code, failure.message, request.id));
      }
    }
    if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
      const failure = new KbError('KB_ERR_BAD_JSON', { details: error.message });
      return reply.status(400).send(errorBody(failure.code, failure.message, request.id));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      const failure = new KbError('KB_ERR_VALIDATION', { details: error.message });
      return reply.status(error.statusCode).send(errorBody(failure.code, failure.message, request.id));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('KB_ERR_INTERNAL', errorCatalogue.KB_ERR_INTERNAL.message.replace('{requestId}', request.id), request.id));
  });

  app.setNotFoundHandler((request, reply) => {
    const failure = new KbError('KB_ERR_NOT_FOUND', { method: request.method, url: request.url.split('?')[0] });
    return reply.status(404).send(errorBody(failure.code, failure.message, request.id));
  });
});
