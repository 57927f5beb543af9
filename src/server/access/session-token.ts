// Widget session tokens: short-lived, signed (HMAC-SHA256), bound to the page origin that asked for them and
// optionally to the end user the host page vouches for. Stateless, so any server process with the secret verifies.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SignedTokens, equalInConstantTime } from './signed-token.ts';

const claimsSchema = z.object({
  sid: z.string(),
  key: z.string(),
  origin: z.string(),
  user: z.string().optional(),
  groups: z.array(z.string()).optional(),
  exp: z.number().int(),
});
export type SessionClaims = z.infer<typeof claimsSchema>;

export class SessionTokens {
  private readonly tokens: SignedTokens<SessionClaims>;

  constructor(
    secret: string | undefined,
    private readonly ttlSeconds: number,
  ) {
    this.tokens = new SignedTokens('kbs1', secret ? Buffer.from(secret, 'utf8') : randomBytes(32), claimsSchema);
  }

  issue(input: { key: string; origin: string; user?: string; groups?: string[] }, now = Date.now()): { token: string; claims: SessionClaims } {
    const claims: SessionClaims = {
      sid: randomUUID(),
      key: input.key,
      origin: input.origin,
      ...(input.user ? { user: input.user } : {}),
      ...(input.groups && input.groups.length > 0 ? { groups: input.groups } : {}),
      exp: Math.floor(now / 1000) + this.ttlSeconds,
    };
    return { token: this.tokens.sign(claims), claims };
  }

  /** The claims of a valid, unexpired token; undefined for anything else (never throws on hostile input). */
  verify(token: string, now = Date.now()): SessionClaims | undefined {
    return this.tokens.read(token, now);
  }

  looksLikeSessionToken(token: string): boolean {
    return this.tokens.looksLikeOne(token);
  }
}

/**
 * End-user tokens signed by the host page's backend with KB_USER_TOKEN_SECRET: base64url(JSON { sub, groups, exp })
 * "." base64url(HMAC-SHA256). The widget passes it as data-user-token; the groups in it decide what the user reads.
 */
const userClaimsSchema = z.object({ sub: z.string().min(1).max(200), groups: z.array(z.string().min(1).max(100)).max(50).default([]), exp: z.number().int() });
export type UserClaims = z.infer<typeof userClaimsSchema>;

export function signUserToken(claims: UserClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

export function verifyUserToken(token: string, secret: string, now = Date.now()): UserClaims | undefined {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  if (!equalInConstantTime(createHmac('sha256', secret).update(payload).digest('base64url'), signature)) return undefined;
  try {
    const parsed = userClaimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success && parsed.data.exp * 1000 > now ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
