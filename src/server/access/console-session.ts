// Console sessions: the admin console (/admin) signs in once with an admin key and then works with a cookie, so the key
// never sits in the page's JavaScript or storage. The cookie holds a signed token (HMAC-SHA256, like widget sessions:
// stateless, so every node with the secret verifies it) naming the key it was opened with; the session ends when it
// expires, when the user signs out, or when that key is revoked. State-changing calls also need the CSRF token, an
// HMAC of the session id that only the console's own page can read (GET /v1/console/session), sent as X-CSRF-Token.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const CONSOLE_COOKIE = 'kb_console';
export const CSRF_HEADER = 'x-csrf-token';

const claimsSchema = z.object({ sid: z.string(), keyId: z.string(), exp: z.number().int() });
export type ConsoleClaims = z.infer<typeof claimsSchema>;

const PREFIX = 'kbc1';

function equalStrings(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class ConsoleSessions {
  private readonly secret: Buffer;
  /** Sessions signed out before they expired: session id → expiry (ms), forgotten once expired. */
  private readonly signedOut = new Map<string, number>();

  constructor(
    secret: string | undefined,
    readonly ttlSeconds: number,
  ) {
    // A label of its own: a widget session token can never pass for a console token, nor the other way round.
    this.secret = createHmac('sha256', secret ? Buffer.from(secret, 'utf8') : randomBytes(32))
      .update('kb console session')
      .digest();
  }

  issue(keyId: string, now = Date.now()): { token: string; claims: ConsoleClaims; csrfToken: string } {
    const claims: ConsoleClaims = { sid: randomUUID(), keyId, exp: Math.floor(now / 1000) + this.ttlSeconds };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${PREFIX}.${payload}.${this.sign(payload)}`, claims, csrfToken: this.csrfTokenOf(claims.sid) };
  }

  /** The claims of a valid, unexpired, not signed-out token; undefined for anything else (never throws). */
  verify(token: string, now = Date.now()): ConsoleClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
    if (!equalStrings(this.sign(parts[1]!), parts[2]!)) return undefined;
    let claims: ConsoleClaims;
    try {
      const parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
      if (!parsed.success) return undefined;
      claims = parsed.data;
    } catch {
      return undefined;
    }
    if (claims.exp * 1000 <= now || this.signedOut.has(claims.sid)) return undefined;
    return claims;
  }

  csrfTokenOf(sid: string): string {
    return createHmac('sha256', this.secret).update(`csrf.${sid}`).digest('base64url');
  }

  checkCsrf(sid: string, given: string | undefined): boolean {
    return given !== undefined && equalStrings(this.csrfTokenOf(sid), given);
  }

  signOut(claims: ConsoleClaims, now = Date.now()): void {
    for (const [sid, expiry] of this.signedOut) if (expiry <= now) this.signedOut.delete(sid);
    this.signedOut.set(claims.sid, claims.exp * 1000);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
