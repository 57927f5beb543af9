// The storage backend chosen at start-up from the configuration: PostgreSQL when KB_DATABASE_URL is set (one schema
// per collection, one connection pool per process), else the embedded store (SQLite + index files in the data
// directory). Both fill the same seams (store/types.ts).
import type { Config } from '../config.ts';
import { vectorModeFor } from '../embed/index.ts';
import type { Embedder } from '../embed/types.ts';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LocalStorage } from './local-storage.ts';
import { PostgresStorage } from './postgres-storage.ts';
import type { Storage } from './types.ts';

/**
 * Opens one knowledge base's storage in `dataDir` (default: the configured data directory); `readOnly` for a reader
 * beside the writing process (a query thread), which follows its writes and writes nothing.
 */
export async function openStorage(config: Readonly<Config>, embedder: Embedder, dataDir = config.dataDir, options: { readOnly?: boolean } = {}): Promise<Storage> {
  if (config.databaseUrl) return PostgresStorage.open({ pool: poolFor(config.databaseUrl), schema: schemaOf(config.collection), embedder, vectors: vectorModeFor(config, embedder) });
  // Vectors that ranking does not search are neither indexed nor, when the embedder computes them again at once,
  // stored (at 100k chunks: 2 KB and an HNSW insertion each).
  return LocalStorage.open(dataDir, embedder, { ...config.hnsw, vectors: vectorModeFor(config, embedder), ...(options.readOnly ? { readOnly: true } : {}) });
}

/** Connection pools by URL, one per process (a query thread has its own), shared by its knowledge bases. */
const pools = new Map<string, pg.Pool>();

/** Connections per process (1..100): a query thread or the main thread rarely has more queries in flight. */
const POOL_CONNECTIONS = 8;

function poolFor(url: string): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: POOL_CONNECTIONS });
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

/** A collection's schema: `kb_` and its name ("-" as "_"), with a hash when that would pass PostgreSQL's 63 bytes. */
export function schemaOf(collection: string): string {
  const name = `kb_${collection.replace(/-/g, '_')}`;
  return name.length <= 40 ? name : `${name.slice(0, 31)}_${createHash('sha256').update(collection).digest('hex').slice(0, 8)}`;
}
