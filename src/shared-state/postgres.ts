// What several API nodes share besides the knowledge bases' schemas, in one PostgreSQL schema (`kb__shared`: no
// collection's schema can take that name, theirs being `kb_` and a name that starts with a letter or a digit): API
// keys, the answers and feedback log, the list of collections and their settings, uploaded originals, the rate-limit
// counters, the job queue (postgres-jobs.ts) and the secret that signs widget sessions, so that a session minted by
// one node is valid on every other.
//
// How a change on one node reaches the others: every change to keys or collections bumps a counter in `generations`,
// which each node reads once a second (SHARED_POLL_MS) and reloads what changed. A revoked key is therefore refused by
// every node within about a second. Documents need no such signal: every read goes to the database, so an upload is
// searchable on every node as soon as its job commits. (A generation check rather than LISTEN/NOTIFY: it needs no
// connection held open per node, survives a database restart without re-subscribing, and costs one query a second.)
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import type { CollectionCatalog, CollectionInfo, CollectionSettings } from '../collections/registry.ts';
import type { AnswerLog, KeyDirectory } from '../components.ts';
import { conversationOf, conversationWhere, type AnswerRecord, type ConversationQuery, type ConversationRecord, type FeedbackRecord } from '../feedback/feedback-store.ts';
import type { OriginalFiles } from '../files/original-files.ts';
import { KbError, describeError } from '../errors.ts';
import { applyMigrations, inTransaction, lockSchema } from '../store/postgres-database.ts';
import { hashKey, newKeyRecord, type Scope, type StoredKey } from '../keys/key-store.ts';

export const SHARED_SCHEMA = 'kb__shared';
/** How often a node checks whether keys or collections changed elsewhere (ms; 200..10000). */
export const SHARED_POLL_MS = 1000;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ${SHARED_SCHEMA}.settings (key text PRIMARY KEY, value text NOT NULL);
  CREATE TABLE ${SHARED_SCHEMA}.generations (name text PRIMARY KEY, value bigint NOT NULL);
  INSERT INTO ${SHARED_SCHEMA}.generations VALUES ('keys', 0), ('collections', 0);
  CREATE TABLE ${SHARED_SCHEMA}.api_keys (
    id text PRIMARY KEY, hash text NOT NULL UNIQUE, scope text NOT NULL, collection text, origins text[], groups text[], label text,
    rate_limit_per_minute integer, created_at text NOT NULL, revoked_at text
  );
  CREATE TABLE ${SHARED_SCHEMA}.answers (
    id text PRIMARY KEY, question text NOT NULL, answer text NOT NULL, answerable boolean NOT NULL, user_id text, origin text,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE ${SHARED_SCHEMA}.feedback (
    answer_id text PRIMARY KEY REFERENCES ${SHARED_SCHEMA}.answers(id) ON DELETE CASCADE, rating text NOT NULL, comment text, created_at timestamptz NOT NULL
  );
  CREATE INDEX ON ${SHARED_SCHEMA}.feedback (created_at);
  CREATE TABLE ${SHARED_SCHEMA}.collections (name text PRIMARY KEY, settings jsonb NOT NULL, created_at text NOT NULL);
  CREATE TABLE ${SHARED_SCHEMA}.files (
    collection text NOT NULL, name text NOT NULL, bytes bytea NOT NULL, content_hash text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, name)
  );
  CREATE TABLE ${SHARED_SCHEMA}.rate_limits (key text PRIMARY KEY, count integer NOT NULL, window_ends_at timestamptz NOT NULL);
  CREATE TABLE ${SHARED_SCHEMA}.jobs (
    id uuid PRIMARY KEY, kind text NOT NULL, collection text NOT NULL, state text NOT NULL, done integer NOT NULL, total integer NOT NULL,
    files jsonb NOT NULL, parameters jsonb NOT NULL, error text, created_at timestamptz NOT NULL, started_at timestamptz, finished_at timestamptz,
    worker text, lease_expires_at timestamptz, attempts integer NOT NULL DEFAULT 0
  );
  CREATE INDEX ON ${SHARED_SCHEMA}.jobs (created_at) WHERE state IN ('queued', 'running');
  `,
  // 2: a running job's OCR progress (the file being read, its pages read), for every node's GET /v1/jobs/:id.
  `ALTER TABLE ${SHARED_SCHEMA}.jobs ADD COLUMN ocr_progress jsonb;`,
  // 3: scheduled re-syncs of websites (sync/schedules.ts).
  `
  CREATE TABLE ${SHARED_SCHEMA}.sync_schedules (
    id uuid PRIMARY KEY, collection text NOT NULL, url text NOT NULL, max_depth integer NOT NULL, max_pages integer NOT NULL, delay_ms integer NOT NULL,
    every_minutes integer NOT NULL, created_at timestamptz NOT NULL, next_run_at timestamptz NOT NULL, last_job_id text
  );
  CREATE INDEX ON ${SHARED_SCHEMA}.sync_schedules (next_run_at);
  `,
  // 4: what the console's conversation log shows (older answers keep these empty), and an index by time.
  `
  ALTER TABLE ${SHARED_SCHEMA}.answers ADD COLUMN collection text, ADD COLUMN kind text, ADD COLUMN confidence real, ADD COLUMN sources jsonb;
  CREATE INDEX ON ${SHARED_SCHEMA}.answers (created_at);
  `,
  // 5: curated answers (curated/curated-answers.ts).
  `
  CREATE TABLE ${SHARED_SCHEMA}.curated_answers (
    id uuid PRIMARY KEY, collection text NOT NULL, question text NOT NULL, answer text NOT NULL, sources jsonb NOT NULL,
    from_answer_id text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
  );
  CREATE INDEX ON ${SHARED_SCHEMA}.curated_answers (collection);
  `,
  // 6: console sessions signed out before they expire, so that every node refuses them (server/access/console-session.ts).
  `CREATE TABLE ${SHARED_SCHEMA}.console_sign_outs (session_id text PRIMARY KEY, expires_at timestamptz NOT NULL);`,
];

/** Version of the shared schema's layout: each entry of MIGRATIONS brings it to the next one. */
export const SHARED_SCHEMA_VERSION = MIGRATIONS.length;

/** Creates or migrates the shared schema under an advisory lock: two nodes starting at once migrate once. */
export async function migrateSharedSchema(pool: pg.Pool): Promise<{ from: number; to: number }> {
  return inTransaction(pool, async (client) => {
    await lockSchema(client, SHARED_SCHEMA);
    return applyMigrations(
      client,
      SHARED_SCHEMA,
      MIGRATIONS.map((migration) => () => migration),
    );
  });
}

/** Tells the other nodes that `name` (keys, collections) changed: part of the caller's transaction when it has one. */
export async function bumpGeneration(client: pg.Pool | pg.PoolClient, name: 'keys' | 'collections'): Promise<void> {
  await client.query(`UPDATE ${SHARED_SCHEMA}.generations SET value = value + 1 WHERE name = $1`, [name]);
}

/** The shared schema's applied version (0: not created yet). */
export async function sharedSchemaVersion(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ version: number | null }>(
    `SELECT CASE WHEN to_regclass('${SHARED_SCHEMA}.schema_migrations') IS NULL THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM ${SHARED_SCHEMA}.schema_migrations) END AS version`,
  );
  return rows[0]?.version ?? 0;
}

/** Reads the change counters once a second and tells each listener whose counter moved. */
export class SharedChanges {
  private readonly seen = new Map<string, string>();
  private readonly listeners = new Map<string, (() => Promise<void>)[]>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly onError: (message: string) => void,
  ) {}

  on(name: string, listener: () => Promise<void>): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
  }

  start(): void {
    this.timer = setInterval(() => void (this.polling ??= this.poll().finally(() => (this.polling = undefined))), SHARED_POLL_MS);
    this.timer.unref();
  }

  /** One check now (also what tests call instead of waiting a second). */
  async poll(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ name: string; value: string }>(`SELECT name, value FROM ${SHARED_SCHEMA}.generations`);
      for (const row of rows) {
        const previous = this.seen.get(row.name);
        this.seen.set(row.name, row.value);
        if (previous !== undefined && previous !== row.value) for (const listener of this.listeners.get(row.name) ?? []) await listener();
      }
    } catch (error) {
      // The database unreachable for a moment: the snapshots stay as they are until the next check succeeds.
      this.onError(`could not check the shared state for changes: ${describeError(error)}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}

interface KeyRow {
  id: string;
  hash: string;
  scope: Scope;
  collection: string | null;
  origins: string[] | null;
  groups: string[] | null;
  label: string | null;
  rate_limit_per_minute: number | null;
  created_at: string;
  revoked_at: string | null;
}

function toStoredKey(row: KeyRow): StoredKey {
  return {
    id: row.id,
    hash: row.hash,
    scope: row.scope,
    ...(row.collection ? { collection: row.collection } : {}),
    ...(row.origins ? { origins: row.origins } : {}),
    ...(row.groups ? { groups: row.groups } : {}),
    ...(row.label ? { label: row.label } : {}),
    ...(row.rate_limit_per_minute !== null ? { rateLimitPerMinute: row.rate_limit_per_minute } : {}),
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

/** API keys in the shared schema; presented keys are checked against a snapshot reloaded when the keys change. */
export class PostgresKeyDirectory implements KeyDirectory {
  private snapshot: StoredKey[] = [];
  private signedOut = new Set<string>();

  private constructor(private readonly pool: pg.Pool) {}

  static async open(pool: pg.Pool, changes: SharedChanges): Promise<PostgresKeyDirectory> {
    const directory = new PostgresKeyDirectory(pool);
    await directory.reload();
    changes.on('keys', () => directory.reload());
    return directory;
  }

  async reload(): Promise<void> {
    const [keys, signOuts] = await Promise.all([
      this.pool.query<KeyRow>(`SELECT * FROM ${SHARED_SCHEMA}.api_keys ORDER BY created_at, id`),
      this.pool.query<{ session_id: string }>(`SELECT session_id FROM ${SHARED_SCHEMA}.console_sign_outs WHERE expires_at > now()`),
    ]);
    this.snapshot = keys.rows.map(toStoredKey);
    this.signedOut = new Set(signOuts.rows.map((row) => row.session_id));
  }

  isSignedOut(sessionId: string): boolean {
    return this.signedOut.has(sessionId);
  }

  async signOut(sessionId: string, expiresAt: Date): Promise<void> {
    // Announced like a revoked key: every node reloads within SHARED_POLL_MS and refuses the session.
    await inTransaction(this.pool, async (client) => {
      await client.query(`DELETE FROM ${SHARED_SCHEMA}.console_sign_outs WHERE expires_at <= now()`);
      await client.query(`INSERT INTO ${SHARED_SCHEMA}.console_sign_outs (session_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [sessionId, expiresAt]);
      await bumpGeneration(client, 'keys');
    });
    await this.reload();
  }

  active(): readonly StoredKey[] {
    return this.snapshot.filter((key) => !key.revokedAt);
  }

  match(secret: string): StoredKey | undefined {
    const hash = hashKey(secret);
    return this.active().find((key) => key.hash === hash);
  }

  async all(): Promise<StoredKey[]> {
    await this.reload();
    return this.snapshot;
  }

  async create(input: Parameters<KeyDirectory['create']>[0]): Promise<{ key: string; record: StoredKey }> {
    const { key, record } = newKeyRecord(input);
    await inTransaction(this.pool, async (client) => {
      await client.query(`INSERT INTO ${SHARED_SCHEMA}.api_keys (id, hash, scope, collection, origins, groups, label, rate_limit_per_minute, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        record.id,
        record.hash,
        record.scope,
        record.collection ?? null,
        record.origins ?? null,
        record.groups ?? null,
        record.label ?? null,
        record.rateLimitPerMinute ?? null,
        record.createdAt,
      ]);
      await bumpGeneration(client, 'keys');
    });
    await this.reload();
    return { key, record };
  }

  async revoke(id: string): Promise<boolean> {
    // The revocation and the signal to the other nodes commit together: a revoked key is never left unannounced.
    const revoked = await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(`UPDATE ${SHARED_SCHEMA}.api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, [id, new Date().toISOString()]);
      if (rowCount) await bumpGeneration(client, 'keys');
      return (rowCount ?? 0) > 0;
    });
    if (revoked) await this.reload();
    return revoked;
  }
}

/** A logged answer with its feedback, as conversationOf reads it (the column user_id is SQLite's user). */
const CONVERSATION_COLUMNS = `a.id, a.question, a.answer, a.answerable, a.user_id AS "user", a.origin, a.created_at, a.collection, a.kind, a.confidence, a.sources, f.rating, f.comment`;

/** Answers and feedback in the shared schema. */
export class PostgresAnswerLog implements AnswerLog {
  constructor(private readonly pool: pg.Pool) {}

  async recordAnswer(answer: AnswerRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${SHARED_SCHEMA}.answers (id, question, answer, answerable, user_id, origin, collection, kind, confidence, sources) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        answer.id,
        answer.question,
        answer.answer,
        answer.answerable,
        answer.user ?? null,
        answer.origin ?? null,
        answer.collection ?? null,
        answer.kind ?? null,
        answer.confidence ?? null,
        answer.sources ? JSON.stringify(answer.sources) : null,
      ],
    );
  }

  async hasAnswer(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${SHARED_SCHEMA}.answers WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  async recordFeedback(answerId: string, rating: 'up' | 'down', comment: string | undefined): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${SHARED_SCHEMA}.feedback (answer_id, rating, comment, created_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (answer_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, created_at = excluded.created_at`,
      [answerId, rating, comment ?? null],
    );
  }

  async listFeedback(limit = 100, offset = 0): Promise<FeedbackRecord[]> {
    const { rows } = await this.pool.query<{ answer_id: string; rating: 'up' | 'down'; comment: string | null; created_at: Date; question: string; answer: string }>(
      `SELECT f.answer_id, f.rating, f.comment, f.created_at, a.question, a.answer FROM ${SHARED_SCHEMA}.feedback f JOIN ${SHARED_SCHEMA}.answers a ON a.id = f.answer_id
       ORDER BY f.created_at DESC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map((row) => ({ answerId: row.answer_id, rating: row.rating, comment: row.comment ?? undefined, createdAt: row.created_at.toISOString(), question: row.question, answer: row.answer }));
  }

  async listConversations(query: ConversationQuery): Promise<{ conversations: ConversationRecord[]; total: number }> {
    const values: unknown[] = [];
    const parameter = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    const from = `FROM ${SHARED_SCHEMA}.answers a LEFT JOIN ${SHARED_SCHEMA}.feedback f ON f.answer_id = a.id ${conversationWhere(query, parameter)}`;
    const filters = [...values];
    const [count, page] = await Promise.all([
      this.pool.query<{ total: string }>(`SELECT count(*) AS total ${from}`, filters),
      this.pool.query(
        `SELECT ${CONVERSATION_COLUMNS}
         ${from} ORDER BY a.created_at DESC, a.id DESC LIMIT ${parameter(query.limit)} OFFSET ${parameter(query.offset)}`,
        values,
      ),
    ]);
    return { conversations: page.rows.map(conversationOf), total: Number(count.rows[0]!.total) };
  }

  async getAnswer(id: string): Promise<ConversationRecord | undefined> {
    const { rows } = await this.pool.query(
      `SELECT ${CONVERSATION_COLUMNS}
       FROM ${SHARED_SCHEMA}.answers a LEFT JOIN ${SHARED_SCHEMA}.feedback f ON f.answer_id = a.id WHERE a.id = $1`,
      [id],
    );
    return rows[0] ? conversationOf(rows[0]) : undefined;
  }

  async pruneBefore(before: Date): Promise<number> {
    // Feedback goes with its answer (ON DELETE CASCADE).
    const { rowCount } = await this.pool.query(`DELETE FROM ${SHARED_SCHEMA}.answers WHERE created_at < $1`, [before.toISOString()]);
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    // The pool belongs to the deployment.
  }
}

/** The named collections in the shared schema, read from a snapshot reloaded when another node changes them. */
export class PostgresCollectionCatalog implements CollectionCatalog {
  private snapshot: CollectionInfo[] = [];
  private readonly listeners: (() => void)[] = [];

  private constructor(private readonly pool: pg.Pool) {}

  static async open(pool: pg.Pool, changes: SharedChanges): Promise<PostgresCollectionCatalog> {
    const catalog = new PostgresCollectionCatalog(pool);
    await catalog.reload();
    changes.on('collections', async () => {
      await catalog.reload();
      for (const listener of catalog.listeners) listener();
    });
    return catalog;
  }

  async reload(): Promise<void> {
    const { rows } = await this.pool.query<{ name: string; settings: CollectionSettings; created_at: string }>(
      `SELECT name, settings, created_at FROM ${SHARED_SCHEMA}.collections ORDER BY created_at, name`,
    );
    this.snapshot = rows.map((row) => ({ name: row.name, settings: row.settings, createdAt: row.created_at }));
  }

  read(): CollectionInfo[] {
    return this.snapshot;
  }

  private async change(sql: string, values: unknown[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(sql, values);
      await bumpGeneration(client, 'collections');
    });
    await this.reload();
  }

  async add(info: CollectionInfo): Promise<void> {
    try {
      await this.change(`INSERT INTO ${SHARED_SCHEMA}.collections (name, settings, created_at) VALUES ($1, $2, $3)`, [info.name, JSON.stringify(info.settings), info.createdAt]);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new KbError('KB_ERR_CONFLICT', { details: `collection "${info.name}" exists already` });
      throw error;
    }
  }

  async remove(name: string): Promise<void> {
    await this.change(`DELETE FROM ${SHARED_SCHEMA}.collections WHERE name = $1`, [name]);
  }

  async updateSettings(name: string, settings: CollectionSettings): Promise<void> {
    await this.change(`UPDATE ${SHARED_SCHEMA}.collections SET settings = $2 WHERE name = $1`, [name, JSON.stringify(settings)]);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/**
 * Uploaded originals in the shared schema, so that any node can parse them again or serve them. A node parses a file
 * from a copy it writes to KB_DATA_DIR/file-cache/<collection> (the parsers read files).
 */
export class PostgresOriginalFiles implements OriginalFiles {
  constructor(
    private readonly pool: pg.Pool,
    private readonly dataDir: string,
  ) {}

  private cacheDirectory(collection: string): string {
    const directory = path.join(this.dataDir, 'file-cache', collection);
    mkdirSync(directory, { recursive: true });
    return directory;
  }

  stagingDirectory(collection: string): string {
    const directory = path.join(this.dataDir, 'upload-staging', collection);
    mkdirSync(directory, { recursive: true });
    return directory;
  }

  async keep(collection: string, name: string, stagedPath: string): Promise<void> {
    const bytes = readFileSync(stagedPath);
    await this.pool.query(
      `INSERT INTO ${SHARED_SCHEMA}.files (collection, name, bytes, content_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (collection, name) DO UPDATE SET bytes = excluded.bytes, content_hash = excluded.content_hash, updated_at = now()`,
      [collection, name, bytes, createHash('sha256').update(bytes).digest('hex')],
    );
    rmSync(stagedPath, { force: true });
  }

  async has(collection: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${SHARED_SCHEMA}.files WHERE collection = $1 AND name = $2`, [collection, name]);
    return (rowCount ?? 0) > 0;
  }

  async names(collection: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(`SELECT name FROM ${SHARED_SCHEMA}.files WHERE collection = $1 ORDER BY name`, [collection]);
    return rows.map((row) => row.name);
  }

  private async bytesOf(collection: string, name: string): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ bytes: Buffer }>(`SELECT bytes FROM ${SHARED_SCHEMA}.files WHERE collection = $1 AND name = $2`, [collection, name]);
    return rows[0]?.bytes;
  }

  async localCopy(collection: string, name: string): Promise<{ directory: string; path: string } | undefined> {
    const bytes = await this.bytesOf(collection, name);
    if (!bytes) return undefined;
    const directory = this.cacheDirectory(collection);
    const file = path.join(directory, path.basename(name));
    writeFileSync(file, bytes);
    return { directory, path: file };
  }

  async read(collection: string, name: string): Promise<Readable | undefined> {
    const bytes = await this.bytesOf(collection, name);
    return bytes ? Readable.from([bytes]) : undefined;
  }

  async remove(collection: string, name: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${SHARED_SCHEMA}.files WHERE collection = $1 AND name = $2`, [collection, name]);
    rmSync(path.join(this.dataDir, 'file-cache', collection, path.basename(name)), { force: true });
  }

  async removeCollection(collection: string): Promise<void> {
    await this.pool.query(`DELETE FROM ${SHARED_SCHEMA}.files WHERE collection = $1`, [collection]);
    rmSync(path.join(this.dataDir, 'file-cache', collection), { recursive: true, force: true });
  }
}

/**
 * A rate-limit store of @fastify/rate-limit's interface whose counters are rows of the shared schema: every node
 * counts a key's requests together. A fixed window per key, as the plugin's memory store keeps.
 */
export function postgresRateLimitStore(pool: pg.Pool): new (options: unknown) => unknown {
  return class PostgresRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      pool
        .query<{ count: number; ttl: number }>(
          `INSERT INTO ${SHARED_SCHEMA}.rate_limits AS r (key, count, window_ends_at) VALUES ($1, 1, clock_timestamp() + $2 * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN r.window_ends_at <= clock_timestamp() THEN 1 ELSE r.count + 1 END,
             window_ends_at = CASE WHEN r.window_ends_at <= clock_timestamp() THEN clock_timestamp() + $2 * interval '1 millisecond' ELSE r.window_ends_at END
           RETURNING count, greatest(0, extract(epoch FROM window_ends_at - clock_timestamp()) * 1000)::integer AS ttl`,
          [key, timeWindow],
        )
        .then(
          ({ rows }) => (rows[0] ? callback(null, { current: rows[0].count, ttl: rows[0].ttl }) : callback(new Error('the rate-limit counter was not returned by the database'))),
          (error: Error) => callback(error),
        );
    }

    child(): unknown {
      return this;
    }
  };
}

/** Deletes the counters of windows that ended (called now and then; a window is a minute). */
export async function pruneRateLimits(pool: pg.Pool): Promise<void> {
  await pool.query(`DELETE FROM ${SHARED_SCHEMA}.rate_limits WHERE window_ends_at < now() - interval '5 minutes'`);
}

/** The secret that signs widget sessions and file links when KB_SESSION_SECRET is not set: made once, shared by all. */
export async function sharedSessionSecret(pool: pg.Pool): Promise<string> {
  await pool.query(`INSERT INTO ${SHARED_SCHEMA}.settings (key, value) VALUES ('session_secret', $1) ON CONFLICT (key) DO NOTHING`, [randomBytes(32).toString('base64url')]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM ${SHARED_SCHEMA}.settings WHERE key = 'session_secret'`);
  return rows[0]!.value;
}
