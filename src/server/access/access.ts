// Who may call what. Three kinds of caller:
//   - a widget in a browser: presents a session token minted for its page origin (POST /v1/widget/session with the
//     public widget key); the token only works with that Origin header;
//   - a server-side client: presents an API key (KB_API_KEYS); an API key is refused when it comes with an Origin
//     header, so a key pasted into a web page is useless;
//   - a local client with no key at all: allowed only while no API key is configured and the request carries no
//     Origin header (a browser always sends one on these requests).
// CORS allows exactly the origins of the configured widget keys.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.ts';
import { KbError } from '../../errors.ts';
import { errorBody } from '../plugins/errors.ts';
import { SessionTokens, type SessionClaims } from './session-token.ts';

export type Principal = { kind: 'session'; claims: SessionClaims } | { kind: 'api-key'; keyId: string } | { kind: 'local' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Route needs a caller: a widget session, an API key, or the local no-key mode. */
    authenticate?: boolean;
  }
}

/** The server's own origin as the browser sees it, from the Host header. */
export function selfOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? ''}`;
}

export class Access {
  readonly tokens: SessionTokens;
  private readonly apiKeyHashes: Buffer[];

  constructor(private readonly config: Readonly<Config>) {
    this.tokens = new SessionTokens(config.access.sessionSecret, config.access.sessionTtlSeconds);
    this.apiKeyHashes = config.access.apiKeys.map((key) => createHash('sha256').update(key).digest());
  }

  get openLocally(): boolean {
    return this.apiKeyHashes.length === 0;
  }

  /** Origins a widget key may be used from, with "self" resolved for this request. */
  originsFor(key: string, request: FastifyRequest): string[] | undefined {
    return this.config.access.widgetKeys.get(key)?.map((origin) => (origin === 'self' ? selfOrigin(request) : origin));
  }

  isAllowedOrigin(origin: string, request: FastifyRequest): boolean {
    for (const key of this.config.access.widgetKeys.keys()) if (this.originsFor(key, request)!.includes(origin)) return true;
    return false;
  }

  private matchApiKey(candidate: string): string | undefined {
    const hash = createHash('sha256').update(candidate).digest();
    const index = this.apiKeyHashes.findIndex((known) => timingSafeEqual(known, hash));
    return index < 0 ? undefined : `key-${index + 1}`;
  }

  authenticate(request: FastifyRequest): Principal {
    const origin = request.headers.origin;
    const header = request.headers.authorization;
    const bearer = header && /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (bearer) {
      if (this.tokens.looksLikeSessionToken(bearer)) {
        const claims = this.tokens.verify(bearer);
        if (!claims) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'The widget session token is invalid or expired: request a new one at POST /v1/widget/session.' });
        if (origin !== claims.origin) throw new KbError('KB_ERR_FORBIDDEN', { details: `This session token belongs to ${claims.origin}, not to ${origin ?? 'a request without an Origin header'}.` });
        return { kind: 'session', claims };
      }
      const keyId = this.matchApiKey(bearer);
      if (!keyId) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'The API key is not valid.' });
      if (origin !== undefined) throw new KbError('KB_ERR_FORBIDDEN', { details: 'API keys cannot be used from a browser page; a widget uses a session token from POST /v1/widget/session.' });
      return { kind: 'api-key', keyId };
    }
    if (origin !== undefined) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'Requests from a web page need a widget session token (POST /v1/widget/session with the public widget key).' });
    if (!this.openLocally) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'This API needs "Authorization: Bearer <API key>".' });
    return { kind: 'local' };
  }

  /** Rate-limit bucket: the widget session, the API key, or the client address. */
  bucket(request: FastifyRequest): string {
    const principal = request.principal;
    if (principal?.kind === 'session') return `session:${principal.claims.sid}`;
    if (principal?.kind === 'api-key') return `key:${principal.keyId}`;
    return `ip:${request.ip}`;
  }
}

export const accessPlugin = fp(async (app: FastifyInstance, options: { access: Access; config: Readonly<Config> }) => {
  const { access, config } = options;
  await app.register(cors, {
    // Only pages of the configured widget origins may call the API from a browser.
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      // The session endpoint answers every origin readably: it checks the origin itself, and a page that is refused
      // should be able to say so rather than report a network error.
      const readable = (request.url ?? '').split('?')[0] === '/v1/widget/session';
      const allowed = origin !== undefined && (readable || access.isAllowedOrigin(origin, request as FastifyRequest));
      callback(null, { origin: allowed ? origin : false, methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization', 'accept'], exposedHeaders: ['retry-after', 'x-request-id'], maxAge: 600 });
    },
  });
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.authenticate) request.principal = access.authenticate(request);
  });
  await app.register(rateLimit, {
    max: config.access.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (request) => access.bucket(request),
    // Health checks, the demo page and the widget script are not API calls.
    allowList: (request) => !request.url.startsWith('/v1/'),
    errorResponseBuilder: (request, context) => {
      const failure = new KbError('KB_ERR_RATE_LIMITED', { max: context.max, retryAfter: Math.ceil(context.ttl / 1000) });
      return Object.assign(new Error(failure.message), { statusCode: 429, kbBody: errorBody(failure.code, failure.message, request.id) });
    },
  });
});
