// What every PostgreSQL user of the process shares: one connection pool per database URL, transactions, and numbered
// schema migrations applied under an advisory lock (two nodes starting at once migrate once). The knowledge bases'
// schemas (store/postgres-storage.ts) and the deployment's shared schema (shared-state/postgres.ts) both use them.
import pg from 'pg';
import { KbError } from '../errors.ts';

/** Connection pools by URL, one per process (a query thread has its own), shared by its knowledge bases. */
const pools = new Map<string, pg.Pool>();

/** Connections per process by default (KB_DATABASE_POOL_SIZE): a query thread or the main thread rarely has more in flight. */
export const DEFAULT_POOL_SIZE = 8;

/** The process's pool for a database; its size is the one given when it is first asked for. */
export function poolFor(url: string, size = DEFAULT_POOL_SIZE): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: size });
    // An idle connection the server closed is dropped from the pool, never a crash.
    pool.on('error', () => undefined);
    pools.set(url, pool);
  }
  return pool;
}

/** Closes this process's pools (at shutdown). */
export async function closeDatabasePools(): Promise<void> {
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  pools.clear();
}

/** Runs `work` in a transaction on one connection: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Takes the advisory lock that serializes the migrations and swaps of one schema, until the transaction ends. */
export async function lockSchema(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`kb-schema:${schema}`]);
}

/**
 * Creates `schema` if needed and applies the migrations it has not had, inside the caller's transaction (which holds
 * the schema's lock): entry i brings the schema from version i to i + 1. A schema newer than this build is refused.
 */
export async function applyMigrations(client: pg.PoolClient, schema: string, migrations: readonly (() => string)[]): Promise<{ from: number; to: number }> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${schema}.schema_migrations`);
  const current = rows[0]?.version ?? 0;
  if (current > migrations.length) throw new KbError('KB_ERR_INDEX_VERSION', { dataDir: `PostgreSQL schema ${schema}`, found: current, expected: migrations.length });
  for (let version = current + 1; version <= migrations.length; version++) {
    await client.query(migrations[version - 1]!());
    await client.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [version]);
  }
  return { from: current, to: migrations.length };
}
