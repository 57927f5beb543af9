// Prometheus metrics at GET /metrics (prom-client): request counts and latency by route and status, answers by
// answerer, LLM fallbacks, index sizes (read at scrape time), and the process's own metrics.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KnowledgeBaseHolder } from './knowledge-base-holder.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'kb_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'kb_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly answers = new Counter({
    name: 'kb_answers_total',
    help: 'Answers by answerer (llm, extractive, none = refused) and fallback',
    labelNames: ['answered_by', 'fallback'] as const,
    registers: [this.registry],
  });
  readonly stage = new Histogram({
    name: 'kb_stage_duration_seconds',
    help: 'Time per stage of an answer (retrieve, generate)',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  constructor(holder: KnowledgeBaseHolder) {
    collectDefaultMetrics({ register: this.registry, prefix: 'kb_process_' });
    const registry = this.registry;
    new Gauge({
      name: 'kb_index_chunks',
      help: 'Chunks in the index',
      registers: [registry],
      async collect() {
        const knowledgeBase = holder.peek();
        if (knowledgeBase) this.set((await knowledgeBase.storage.keywords.statistics()).chunkCount);
      },
    });
    new Gauge({
      name: 'kb_index_documents',
      help: 'Documents in the index',
      registers: [registry],
      async collect() {
        const knowledgeBase = holder.peek();
        if (knowledgeBase) this.set(await knowledgeBase.storage.documents.documentCount());
      },
    });
  }
}

export const metricsPlugin = fp(async (app: FastifyInstance, { metrics }: { metrics: Metrics }) => {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
});
