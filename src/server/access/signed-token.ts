// Stateless signed tokens, "prefix.payload.signature": the claims as base64url JSON, signed with HMAC-SHA256. Read
// back only when the signature matches (compared in constant time), the claims pass their schema and have not
// expired. Widget sessions and console sessions are both of this kind, each with its own prefix and secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

export function equalInConstantTime(expected: string, given: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

export class SignedTokens<Claims extends { exp: number }> {
  constructor(
    private readonly prefix: string,
    private readonly secret: Buffer,
    private readonly schema: z.ZodType<Claims>,
  ) {}

  sign(claims: Claims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${this.prefix}.${payload}.${this.signature(payload)}`;
  }

  /** The claims of a valid, unexpired token; undefined for anything else (never throws on hostile input). */
  read(token: string, now = Date.now()): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== this.prefix) return undefined;
    if (!equalInConstantTime(this.signature(parts[1]!), parts[2]!)) return undefined;
    try {
      const parsed = this.schema.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
      return parsed.success && parsed.data.exp * 1000 > now ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  looksLikeOne(token: string): boolean {
    return token.startsWith(`${this.prefix}.`);
  }

  private signature(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
