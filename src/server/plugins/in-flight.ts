// A bound on the requests the server works on at once. Beyond it a request is answered 503 with Retry-After at once
// instead of joining a queue that grows without bound (measured: 50 clients on one event loop waited 10–20 s per
// search, and the queue took 26 s to drain). Liveness, readiness and metrics are never counted or refused, so an
// orchestrator sees a busy server as alive.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KbError } from '../../errors.ts';

/** Seconds a refused client is asked to wait (1..60): one search takes milliseconds, so the peak passes quickly. */
const BUSY_RETRY_SECONDS = 1;
const uncounted = new Set(['/healthz', '/readyz', '/metrics']);
const counted = Symbol('counted in flight');

export interface InFlightCounter {
  /** Requests being worked on now. */
  readonly current: number;
  /** Requests refused with 503 since the start. */
  readonly refused: number;
}

export const inFlightPlugin = fp(
  async (app: FastifyInstance, { maxInFlight }: { maxInFlight: number }) => {
    const state = { current: 0, refused: 0 };
    app.decorate('inFlight', state as InFlightCounter);
    const release = (request: FastifyRequest) => {
      const marked = request as FastifyRequest & { [counted]?: boolean };
      if (!marked[counted]) return;
      marked[counted] = false;
      state.current--;
    };
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?', 1)[0]!;
      if (uncounted.has(path)) return;
      if (state.current >= maxInFlight) {
        state.refused++;
        throw new KbError(
          'KB_ERR_BUSY',
          { details: `The server is working on ${state.current} requests.`, retryAfter: BUSY_RETRY_SECONDS },
          { extra: { retryAfter: BUSY_RETRY_SECONDS }, retryable: true },
        );
      }
      state.current++;
      (request as FastifyRequest & { [counted]?: boolean })[counted] = true;
      // The response's 'close' comes for every request, sent or aborted at any stage: a client that went away while
      // its request waited for a query thread once left it counted for ever (onResponse never came, onRequestAbort
      // had come before the count), and 64 such requests refused everything after.
      reply.raw.once('close', () => release(request));
    });
    app.addHook('onResponse', async (request) => release(request));
    app.addHook('onRequestAbort', async (request) => release(request));
  },
  { name: 'in-flight' },
);
