// API keys kept in the data directory, hashed (SHA-256): the key itself is shown once, at creation. Scopes:
//   admin  — everything, including documents, keys and feedback;
//   query  — ask, search, the OpenAI-compatible endpoint, feedback;
//   widget — a public key for pages: it only mints widget sessions, from the origins it is bound to.
// The file is versioned and replaced atomically; a server re-reads it when it changes, so a revoked key stops
// working without a restart.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const KEYS_FORMAT_VERSION = 1;
export const scopes = ['admin', 'query', 'widget'] as const;
export type Scope = (typeof scopes)[number];

const keySchema = z.object({
  id: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  scope: z.enum(scopes),
  collection: z.string().optional(),
  origins: z.array(z.string()).optional(),
  /** Reader groups: a query key reads public documents and those of these groups. */
  groups: z.array(z.string()).optional(),
  label: z.string().optional(),
  /** This key's own requests per minute, instead of the server's default for its scope. */
  rateLimitPerMinute: z.number().int().min(1).max(100_000_000).optional(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type StoredKey = z.infer<typeof keySchema>;
const fileSchema = z.object({ formatVersion: z.literal(KEYS_FORMAT_VERSION), keys: z.array(keySchema) });

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface KeyInput {
  scope: Scope;
  collection?: string;
  origins?: string[];
  groups?: string[];
  label?: string;
  rateLimitPerMinute?: number;
}

/** A new key and its stored record, the input checked (wherever keys are kept). */
export function newKeyRecord(input: KeyInput): { key: string; record: StoredKey } {
  if (input.rateLimitPerMinute !== undefined && !(Number.isInteger(input.rateLimitPerMinute) && input.rateLimitPerMinute >= 1 && input.rateLimitPerMinute <= 100_000_000)) {
    throw new Error(`the rate limit must be a whole number of requests per minute from 1 to 100000000, not ${input.rateLimitPerMinute}`);
  }
  if (input.scope === 'widget' && (!input.origins || input.origins.length === 0)) throw new Error('a widget key needs --origins (the page origins it may be used from)');
  for (const origin of input.origins ?? []) if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new Error(`"${origin}" is not an origin like https://helpdesk.example.com`);
  const prefix = input.scope === 'widget' ? 'pk' : input.scope === 'admin' ? 'kb_admin' : 'kb_query';
  const key = `${prefix}_${randomBytes(24).toString('base64url')}`;
  const hash = hashKey(key);
  const record: StoredKey = {
    id: hash.slice(0, 12),
    hash,
    scope: input.scope,
    ...(input.collection ? { collection: input.collection } : {}),
    ...(input.origins ? { origins: input.origins } : {}),
    ...(input.groups && input.groups.length > 0 ? { groups: input.groups } : {}),
    ...(input.label ? { label: input.label } : {}),
    ...(input.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: input.rateLimitPerMinute } : {}),
    createdAt: new Date().toISOString(),
  };
  return { key, record };
}

export class KeyStore {
  private readonly file: string;
  private cache: { mtimeMs: number; keys: StoredKey[] } | undefined;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'keys.json');
  }

  /** All keys, revoked ones included; re-read when the file changed. */
  all(): StoredKey[] {
    if (!existsSync(this.file)) return [];
    const mtimeMs = statSync(this.file).mtimeMs;
    if (this.cache && this.cache.mtimeMs === mtimeMs) return this.cache.keys;
    let parsed;
    try {
      parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch (error) {
      throw new Error(`${this.file} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    if (!parsed.success) throw new Error(`${this.file} has an unknown format (expected formatVersion ${KEYS_FORMAT_VERSION}): ${parsed.error.issues[0]?.message}`);
    this.cache = { mtimeMs, keys: parsed.data.keys };
    return parsed.data.keys;
  }

  active(): StoredKey[] {
    return this.all().filter((key) => !key.revokedAt);
  }

  /** Finds the active key matching a presented secret. */
  match(secret: string): StoredKey | undefined {
    const hash = hashKey(secret);
    return this.active().find((key) => key.hash === hash);
  }

  create(input: KeyInput): { key: string; record: StoredKey } {
    const created = newKeyRecord(input);
    this.write([...this.all(), created.record]);
    return created;
  }

  revoke(id: string): boolean {
    const keys = this.all();
    const target = keys.find((key) => key.id === id && !key.revokedAt);
    if (!target) return false;
    this.write(keys.map((key) => (key === target ? { ...key, revokedAt: new Date().toISOString() } : key)));
    return true;
  }

  private write(keys: StoredKey[]): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ formatVersion: KEYS_FORMAT_VERSION, keys }, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.file);
    this.cache = undefined;
  }
}
