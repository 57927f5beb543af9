// The admin console (/admin): its pages, its script and style, and the sign-in that exchanges an admin key for a
// session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) and a CSRF token (access/console-session.ts).
// A console page is served only to a signed-in browser: without a session every /admin/<page> redirects to sign-in,
// and the data comes from the API, which checks the session on every call.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { KbError } from '../../errors.ts';
import { CONSOLE_COOKIE, type ConsoleClaims } from '../access/console-session.ts';
import type { Access } from '../access/access.ts';
import { CONSOLE_PAGES } from '../../console/pages.ts';
import { CONSOLE_STYLES } from '../../console/styles.ts';
import { errorResponseSchema } from '../schemas.ts';
import type { ScriptBundle } from '../script-bundles.ts';

const sessionSchema = z.object({
  csrfToken: z.string().describe('send it as X-CSRF-Token on every state-changing call'),
  expiresAt: z.string(),
  keyId: z.string().describe('the admin key the session was opened with'),
  logRetentionDays: z.number().int().describe('KB_LOG_RETENTION_DAYS: how long the conversation log is kept (0: forever)'),
  answerThreshold: z.number().describe('KB_ANSWER_THRESHOLD: confidence below which questions are refused'),
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Console pages run only our own script and style; nothing may frame them. */
const PAGE_SECURITY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** The widget preview is framed by the console, and the widget styles its shadow root with a style element. */
const PREVIEW_SECURITY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'";

function shell(bundle: ScriptBundle): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Knowledge base console</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/admin/console.css?v=${bundle.version}">
</head>
<body>
<div id="console"></div>
<script src="/admin/console.js?v=${bundle.version}"></script>
</body>
</html>`;
}

function sendPage(reply: FastifyReply, html: string, security = PAGE_SECURITY): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', security)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

export const consoleRoutes: FastifyPluginAsyncZod<{
  access: Access;
  /** The console's script, built when first asked for. */
  bundle: () => Promise<ScriptBundle>;
  widgetBundle: ScriptBundle;
  logRetentionDays: number;
  answerThreshold: number;
}> = async (app, { access, bundle, widgetBundle, logRetentionDays, answerThreshold }) => {
  const sessionView = (claims: ConsoleClaims): z.infer<typeof sessionSchema> => ({
    csrfToken: access.consoleSessions.csrfTokenOf(claims.sid),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    keyId: claims.keyId,
    logRetentionDays,
    answerThreshold,
  });

  app.post(
    '/v1/console/session',
    {
      schema: {
        tags: ['console'],
        summary: 'Sign in to the admin console: an admin key for a session cookie and a CSRF token',
        body: z.strictObject({ key: z.string().trim().min(1).max(500) }),
        response: { 200: sessionSchema, 400: errorResponseSchema, 401: errorResponseSchema, 429: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const keyId = access.adminKeyId(request.body.key);
      // One answer for "unknown" and "not an admin key": the sign-in form is not a way to probe keys.
      if (!keyId) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'This is not an admin key of this server (a key limited to one collection does not open the console).' });
      const { token, claims } = access.consoleSessions.issue(keyId);
      reply.setCookie(CONSOLE_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        path: '/',
        maxAge: access.consoleSessions.ttlSeconds,
      });
      return sessionView(claims);
    },
  );

  app.get(
    '/v1/console/session',
    {
      schema: {
        tags: ['console'],
        summary: 'The console session of this browser and its CSRF token; signedIn false without one (the console asks before it shows sign-in)',
        response: { 200: z.union([sessionSchema.extend({ signedIn: z.literal(true) }), z.object({ signedIn: z.literal(false) })]) },
      },
    },
    async (request) => {
      const claims = access.consoleSessionOf(request);
      return claims ? { signedIn: true as const, ...sessionView(claims) } : { signedIn: false as const };
    },
  );

  app.delete(
    '/v1/console/session',
    {
      config: { access: 'admin' as const },
      schema: { tags: ['console'], summary: 'Sign out of the console', response: { 204: z.null(), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema } },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal?.kind !== 'console') throw new KbError('KB_ERR_VALIDATION', { details: 'only a console session signs out' });
      await access.signOut(principal.claims);
      reply.clearCookie(CONSOLE_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https' });
      return reply.status(204).send(null);
    },
  );

  const signedIn = (request: FastifyRequest) => access.consoleSessionOf(request) !== undefined;

  app.get('/admin', { schema: { hide: true } }, async (request, reply) => (signedIn(request) ? reply.redirect('/admin/documents', 302) : sendPage(reply, shell(await bundle()))));
  app.get('/admin/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/admin', 302));
  app.get('/admin/console.js', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send((await bundle()).code),
  );
  app.get('/admin/console.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(CONSOLE_STYLES),
  );
  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/widget-preview', { schema: { hide: true } }, async (request, reply) => {
    if (!signedIn(request)) return reply.redirect('/admin', 302);
    const attributes = ['key', 'lang', 'title', 'collection', 'accent', 'position', 'welcome', 'suggestions', 'helpdesk-text', 'helpdesk-url']
      .map((name) => [name, request.query[name]] as const)
      .filter((entry): entry is readonly [string, string] => typeof entry[1] === 'string' && entry[1].length > 0 && entry[1].length <= 2000)
      .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
      .join('');
    return sendPage(
      reply,
      `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Widget preview</title></head>
<body style="margin:0;min-height:100vh;background:#f3f4f6"><script src="/widget/${widgetBundle.version}/widget.js"${attributes}></script></body></html>`,
      PREVIEW_SECURITY,
    );
  });
  app.get<{ Params: { page: string } }>('/admin/:page', { schema: { hide: true } }, async (request, reply) => {
    const page = request.params.page;
    if (!(CONSOLE_PAGES as readonly string[]).includes(page)) throw new KbError('KB_ERR_NOT_FOUND', { method: 'GET', url: request.url });
    if (!signedIn(request)) return reply.redirect(`/admin?next=${encodeURIComponent(`/admin/${page}`)}`, 302);
    return sendPage(reply, shell(await bundle()));
  });
};
