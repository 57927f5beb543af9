// The widget script and the demo help-desk page that shows it working (GET /).
import type { FastifyPluginAsync } from 'fastify';
import type { ScriptBundle } from '../script-bundles.ts';
import { FAVICON_SVG, demoPage } from '../demo-page.ts';

export const widgetRoutes: FastifyPluginAsync<{ bundle: ScriptBundle }> = async (app, { bundle }) => {
  const send = (immutable: boolean) => async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300')
      .header('etag', `"${bundle.version}"`)
      .header('x-widget-version', bundle.version)
      .header('x-widget-integrity', bundle.integrity)
      // The script is fetched cross-origin by host pages (for SRI it needs CORS).
      .header('access-control-allow-origin', '*')
      .send(bundle.code);
  app.get('/widget.js', { schema: { hide: true } }, send(false));
  app.get<{ Params: { version: string } }>('/widget/:version/widget.js', { schema: { hide: true } }, async (request, reply) => {
    if (request.params.version !== bundle.version) return reply.redirect(`/widget/${bundle.version}/widget.js`, 302);
    return send(true)(request, reply);
  });
  // Browsers ask for /favicon.ico on every page of the server (the API docs too); an SVG answers both names.
  const favicon = async (_request: unknown, reply: import('fastify').FastifyReply) => reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG);
  app.get('/favicon.ico', { schema: { hide: true } }, favicon);
  app.get('/favicon.svg', { schema: { hide: true } }, favicon);
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(demoPage(bundle)));
};
