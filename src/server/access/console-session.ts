// Console sessions: the admin console (/admin) signs in once with an admin key and then works with a cookie, so the key
// never sits in the page's JavaScript or storage. The cookie holds a signed token (HMAC-SHA256, like widget sessions:
// stateless, so every node with the secret verifies it) naming the key it was opened with; the session ends when it
// expires, when the user signs out (kept by the key directory, so on every node), or when that key is revoked. State-changing calls also need the CSRF token, an
// HMAC of the session id that only the console's own page can read (GET /v1/console/session), sent as X-CSRF-Token.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SignedTokens, equalInConstantTime } from './signed-token.ts';

export const CONSOLE_COOKIE = 'kb_console';
export const CSRF_HEADER = 'x-csrf-token';

const claimsSchema = z.object({ sid: z.string(), keyId: z.string(), exp: z.number().int() });
export type ConsoleClaims = z.infer<typeof claimsSchema>;

export class ConsoleSessions {
  private readonly secret: Buffer;
  private readonly tokens: SignedTokens<ConsoleClaims>;

  constructor(
    secret: string | undefined,
    readonly ttlSeconds: number,
  ) {
    // A key of its own: a widget session token can never pass for a console token, nor the other way round.
    this.secret = createHmac('sha256', secret ? Buffer.from(secret, 'utf8') : randomBytes(32))
      .update('kb console session')
      .digest();
    this.tokens = new SignedTokens('kbc1', this.secret, claimsSchema);
  }

  issue(keyId: string, now = Date.now()): { token: string; claims: ConsoleClaims; csrfToken: string } {
    const claims: ConsoleClaims = { sid: randomUUID(), keyId, exp: Math.floor(now / 1000) + this.ttlSeconds };
    return { token: this.tokens.sign(claims), claims, csrfToken: this.csrfTokenOf(claims.sid) };
  }

  /** The claims of a valid, unexpired token; undefined for anything else (never throws). Sign-outs are the key directory's. */
  verify(token: string, now = Date.now()): ConsoleClaims | undefined {
    return this.tokens.read(token, now);
  }

  csrfTokenOf(sid: string): string {
    return createHmac('sha256', this.secret).update(`csrf.${sid}`).digest('base64url');
  }

  checkCsrf(sid: string, given: string | undefined): boolean {
    return given !== undefined && equalInConstantTime(this.csrfTokenOf(sid), given);
  }
}
