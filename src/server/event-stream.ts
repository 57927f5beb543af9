// Server-sent events from a Fastify route: the reply is hijacked (Fastify no longer sends it), so the headers already
// set on it (CORS, request id) are copied onto the raw response first.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** An abort signal that fires when the client goes away before the response is finished. */
export function abortWhenClientLeaves(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // The response closing before it finished means the client went away: stop generating (and paying for) text.
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export function openEventStream(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string);
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
}
