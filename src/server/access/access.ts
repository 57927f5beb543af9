// Who may call what. Three kinds of caller:
//   - a widget in a browser: presents a session token minted for its page origin (POST /v1/widget/session with the
//     public widget key); the token only works with that Origin header, and only on query routes;
//   - a server-side client: presents an API key (`kb keys create`, or KB_API_KEYS, which count as admin keys) whose
//     scope must cover the route (admin ⊃ query); an API key is refused when it comes with an Origin header, so a
//     key pasted into a web page is useless;
//   - the admin console (/admin): signed in with an admin key, it presents a session cookie (console-session.ts) and,
//     on every state-changing call, the CSRF token; it may call admin and query routes;
//   - a local client with no key at all: allowed only while no admin or query key exists, the server listens on a
//     loopback interface, and the request carries no Origin header (a browser always sends one on these requests).
// CORS allows exactly the origins of the configured widget keys.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.ts';
import { KbError } from '../../errors.ts';
import { errorBody } from '../plugins/errors.ts';
import { SessionTokens, type SessionClaims } from './session-token.ts';
import { CONSOLE_COOKIE, CSRF_HEADER, ConsoleSessions, type ConsoleClaims } from './console-session.ts';
import { FileLinks } from './file-links.ts';
import type { Scope } from '../../keys/key-store.ts';
import type { KeyDirectory } from '../../components.ts';
import { READ_EVERYTHING, readScopeForGroups, type ReadScope } from '../../retrieve/read-scope.ts';

export type RouteAccess = 'query' | 'admin';
export type Principal =
  | { kind: 'session'; claims: SessionClaims }
  | { kind: 'console'; claims: ConsoleClaims }
  | { kind: 'api-key'; keyId: string; scope: Scope; collection?: string; groups?: string[]; rateLimitPerMinute?: number }
  | { kind: 'local' };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Who may call the route: query (widget sessions, query and admin keys) or admin (admin keys). */
    access?: RouteAccess;
  }
}

/** The server's own origin as the browser sees it, from the Host header. */
export function selfOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? ''}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Methods that change nothing: a console session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class Access {
  readonly tokens: SessionTokens;
  readonly consoleSessions: ConsoleSessions;
  /** Signed links to cited documents' originals, for browsers (file-links.ts). */
  readonly fileLinks: FileLinks;
  private readonly apiKeyHashes: Buffer[];

  constructor(
    private readonly config: Readonly<Config>,
    readonly keys: KeyDirectory,
  ) {
    this.tokens = new SessionTokens(config.access.sessionSecret, config.access.sessionTtlSeconds);
    this.fileLinks = new FileLinks(config.access.sessionSecret);
    this.consoleSessions = new ConsoleSessions(config.access.sessionSecret, config.access.consoleSessionHours * 3600);
    this.apiKeyHashes = config.access.apiKeys.map((key) => createHash('sha256').update(key).digest());
  }

  /** No admin or query key exists and the server is reachable from this machine only. */
  get openLocally(): boolean {
    return this.apiKeyHashes.length === 0 && !this.keys.active().some((key) => key.scope !== 'widget') && isLoopback(this.config.host);
  }

  get userTokenSecret(): string | undefined {
    return this.config.access.userTokenSecret;
  }

  get hasAdminKey(): boolean {
    return this.apiKeyHashes.length > 0 || this.keys.active().some((key) => key.scope === 'admin');
  }

  /** Origins a public widget key may be used from ("self" resolved for this request); undefined for unknown keys. */
  originsFor(key: string, request: FastifyRequest): string[] | undefined {
    const configured = this.config.access.widgetKeys.get(key);
    const stored = configured ? undefined : this.keys.match(key);
    const origins = configured ?? (stored?.scope === 'widget' ? stored.origins : undefined);
    return origins?.map((origin) => (origin === 'self' ? selfOrigin(request) : origin));
  }

  isAllowedOrigin(origin: string, request: FastifyRequest): boolean {
    for (const key of this.config.access.widgetKeys.keys()) if (this.originsFor(key, request)!.includes(origin)) return true;
    return this.keys.active().some((key) => key.scope === 'widget' && key.origins?.includes(origin));
  }

  /** The admin key a console session may be opened with: its id, or undefined for any other key. */
  adminKeyId(candidate: string): string | undefined {
    const matched = this.matchApiKey(candidate);
    // A key limited to one collection does not open the console, which manages the whole deployment.
    return matched?.scope === 'admin' && !matched.collection ? matched.keyId : undefined;
  }

  /** A console session lasts only as long as the admin key it was opened with. */
  private adminKeyActive(keyId: string): boolean {
    const environment = /^env-(\d+)$/.exec(keyId);
    if (environment) return Number(environment[1]) <= this.apiKeyHashes.length;
    return this.keys.active().some((key) => key.id === keyId && key.scope === 'admin' && !key.collection);
  }

  /** Ends a console session on every node. */
  async signOut(claims: ConsoleClaims): Promise<void> {
    await this.keys.signOut(claims.sid, new Date(claims.exp * 1000));
  }

  /** The valid console session of the request's cookie, if any (for pages: no CSRF check, never throws). */
  consoleSessionOf(request: FastifyRequest): ConsoleClaims | undefined {
    const token = request.cookies?.[CONSOLE_COOKIE];
    const claims = token ? this.consoleSessions.verify(token) : undefined;
    // Live while not signed out and while the admin key it was opened with is active.
    return claims && !this.keys.isSignedOut(claims.sid) && this.adminKeyActive(claims.keyId) ? claims : undefined;
  }

  /** The console session of the request's cookie, if valid; throws when a state-changing call lacks its CSRF token. */
  private consoleSession(request: FastifyRequest): ConsoleClaims | undefined {
    if (!request.cookies?.[CONSOLE_COOKIE]) return undefined;
    const claims = this.consoleSessionOf(request);
    if (!claims) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'The console session has ended (expired, signed out or its key revoked): sign in again at /admin.' });
    if (!SAFE_METHODS.has(request.method)) {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== selfOrigin(request)) throw new KbError('KB_ERR_FORBIDDEN', { details: `A console session works only from this server's own pages, not from ${origin}.` });
      const given = request.headers[CSRF_HEADER];
      if (!this.consoleSessions.checkCsrf(claims.sid, typeof given === 'string' ? given : undefined))
        throw new KbError('KB_ERR_CSRF', { details: `send the session's CSRF token (GET /v1/console/session) in the ${CSRF_HEADER} header` });
    }
    return claims;
  }

  private matchApiKey(candidate: string): { keyId: string; scope: Scope; collection?: string; groups?: string[]; rateLimitPerMinute?: number } | undefined {
    const hash = createHash('sha256').update(candidate).digest();
    const index = this.apiKeyHashes.findIndex((known) => timingSafeEqual(known, hash));
    if (index >= 0) return { keyId: `env-${index + 1}`, scope: 'admin' };
    const stored = this.keys.match(candidate);
    return stored
      ? {
          keyId: stored.id,
          scope: stored.scope,
          ...(stored.collection ? { collection: stored.collection } : {}),
          ...(stored.groups ? { groups: stored.groups } : {}),
          ...(stored.rateLimitPerMinute ? { rateLimitPerMinute: stored.rateLimitPerMinute } : {}),
        }
      : undefined;
  }

  /** Who is calling, and whether they may call a route of this access level. */
  authorize(request: FastifyRequest, level: RouteAccess): Principal {
    const principal = this.authenticate(request);
    if (principal.kind === 'session' && level !== 'query') throw new KbError('KB_ERR_FORBIDDEN', { details: 'A widget session can ask and search, nothing else.' });
    if (principal.kind === 'api-key') {
      if (principal.scope === 'widget') throw new KbError('KB_ERR_FORBIDDEN', { details: 'A widget key only mints widget sessions (POST /v1/widget/session); use a query or admin key.' });
      if (level === 'admin' && principal.scope !== 'admin') throw new KbError('KB_ERR_FORBIDDEN', { details: `This route needs an admin key; this key's scope is ${principal.scope}.` });
    }
    return principal;
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
      const matched = this.matchApiKey(bearer);
      // While no key exists on a loopback server, clients that insist on sending one (the OpenAI SDKs refuse to start
      // without an API key) are served like clients that send none: any placeholder works until keys are created.
      if (!matched && origin === undefined && this.openLocally) return { kind: 'local' };
      if (!matched) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'The API key is not valid (or was revoked).' });
      if (origin !== undefined) throw new KbError('KB_ERR_FORBIDDEN', { details: 'API keys cannot be used from a browser page; a widget uses a session token from POST /v1/widget/session.' });
      return { kind: 'api-key', ...matched };
    }
    const console = this.consoleSession(request);
    if (console) return { kind: 'console', claims: console };
    if (origin !== undefined) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'Requests from a web page need a widget session token (POST /v1/widget/session with the public widget key).' });
    if (!this.openLocally) throw new KbError('KB_ERR_UNAUTHORIZED', { details: 'This API needs "Authorization: Bearer <API key>" (create one with `npm run kb -- keys create --scope query`).' });
    return { kind: 'local' };
  }

  /** Rate-limit bucket: the widget session, the API key, or the client address. */
  bucket(request: FastifyRequest): string {
    const principal = request.principal;
    if (principal?.kind === 'session') return `session:${principal.claims.sid}`;
    if (principal?.kind === 'console') return `console:${principal.claims.sid}`;
    if (principal?.kind === 'api-key') return `key:${principal.keyId}`;
    return `ip:${request.ip}`;
  }

  /** Requests per minute for the request's bucket: a key's own limit, else admin keys' default, else the common one. */
  rateLimitOf(request: FastifyRequest): number {
    const principal = request.principal;
    if (principal?.kind === 'api-key') return principal.rateLimitPerMinute ?? (principal.scope === 'admin' ? this.config.access.adminRateLimitPerMinute : this.config.access.rateLimitPerMinute);
    if (principal?.kind === 'console') return this.config.access.adminRateLimitPerMinute;
    return this.config.access.rateLimitPerMinute;
  }
}

/**
 * A second, coarser limit per client address, whatever session or key it presents: one machine minting many widget
 * sessions (each with its own budget) is still held to this. Fixed one-minute windows.
 */
export class AddressLimit {
  private window = 0;
  private counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** Seconds to wait when over the limit, else 0. */
  take(address: string, now = Date.now()): number {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return count > this.perMinute ? Math.ceil(((window + 1) * 60_000 - now) / 1000) : 0;
  }
}

export const accessPlugin = fp(async (app: FastifyInstance, options: { access: Access; config: Readonly<Config>; rateLimitStore?: unknown }) => {
  const { access, config } = options;
  await app.register(cookie);
  await app.register(cors, {
    // Only pages of the configured widget origins may call the API from a browser.
    delegator: (request, callback) => {
      const origin = request.headers.origin;
      // The session endpoint answers every origin readably: it checks the origin itself, and a page that is refused
      // should be able to say so rather than report a network error.
      const readable = (request.url ?? '').split('?')[0] === '/v1/widget/session';
      const allowed = origin !== undefined && (readable || access.isAllowedOrigin(origin, request as FastifyRequest));
      callback(null, {
        origin: allowed ? origin : false,
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', 'accept'],
        exposedHeaders: ['retry-after', 'x-request-id'],
        maxAge: 600,
      });
    },
  });
  const addressLimit = new AddressLimit(config.access.rateLimitPerIpPerMinute);
  app.addHook('onRequest', async (request, reply) => {
    const level = request.routeOptions.config?.access;
    let principal: Principal | undefined;
    let refusal: unknown;
    if (level) {
      try {
        principal = access.authorize(request, level);
      } catch (error) {
        refusal = error;
      }
    }
    // A valid API key is held to its own limit (an admin script uploading from one machine is not a crowd of widget
    // sessions); everything else, failed authentications included, counts against the client address.
    if (request.url.startsWith('/v1/') && principal?.kind !== 'api-key' && principal?.kind !== 'console') {
      const wait = addressLimit.take(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new KbError('KB_ERR_RATE_LIMITED', { max: config.access.rateLimitPerIpPerMinute, retryAfter: wait });
      }
    }
    if (refusal) throw refusal;
    if (principal) request.principal = principal;
  });
  await app.register(rateLimit, {
    // Counters shared by every node when the deployment gives a store (src/components.ts); else in this process.
    // A shared store that cannot be reached for a moment lets requests through rather than fail them.
    ...(options.rateLimitStore ? { store: options.rateLimitStore as never, skipOnError: true } : {}),
    max: (request) => access.rateLimitOf(request),
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

/** A key created for one collection (`kb keys create --collection NAME`) works only there. */
export function assertCollectionAllowed(request: FastifyRequest, collection: string): void {
  const principal = request.principal;
  if (principal?.kind === 'api-key' && principal.collection && principal.collection !== collection) {
    throw new KbError('KB_ERR_FORBIDDEN', { details: `This key is limited to the collection "${principal.collection}".` });
  }
}

/**
 * What a caller may read, for every read route, derived once from its principal: the collections it names must be
 * open to the key (a key created for one collection works only there), and its reader groups decide the documents.
 * Admin keys and the local no-key mode read everything; a query key or a widget session reads documents open to
 * everyone plus those of its groups (a key's --groups, the groups in the end-user token the host page signed).
 */
export function readScopeOf(request: FastifyRequest, collections: readonly string[]): ReadScope {
  for (const collection of collections) assertCollectionAllowed(request, collection);
  const principal = request.principal;
  if (!principal || principal.kind === 'local' || principal.kind === 'console') return READ_EVERYTHING;
  if (principal.kind === 'api-key') return principal.scope === 'admin' ? READ_EVERYTHING : readScopeForGroups(principal.groups ?? []);
  return readScopeForGroups(principal.claims.groups ?? []);
}
