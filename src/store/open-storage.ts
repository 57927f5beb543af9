// The storage backend chosen at start-up from the configuration: PostgreSQL when KB_DATABASE_URL is set (one schema
// per collection, one connection pool per process), else the embedded store (SQLite + index files in the data
// directory). Both fill the same seams (store/types.ts).
import type { Config } from '../config.ts';
import { vectorModeFor } from '../embed/index.ts';
import type { Embedder } from '../embed/types.ts';
import { LocalStorage } from './local-storage.ts';
import { poolFor } from './postgres-database.ts';
import { PostgresStorage, schemaOf } from './postgres-storage.ts';
import type { Storage } from './types.ts';

/**
 * Opens one knowledge base's storage in `dataDir` (default: the configured data directory); `readOnly` for a reader
 * beside the writing process (a query thread), which follows its writes and writes nothing.
 */
export async function openStorage(config: Readonly<Config>, embedder: Embedder, dataDir = config.dataDir, options: { readOnly?: boolean } = {}): Promise<Storage> {
  // Vectors that ranking does not search are neither indexed nor, when the embedder computes them again at once,
  // stored (at 100k chunks: 2 KB and an HNSW insertion each).
  const vectors = vectorModeFor(config, embedder);
  if (config.databaseUrl) return PostgresStorage.open({ pool: poolFor(config.databaseUrl, config.databasePoolSize), schema: schemaOf(config.collection), embedder, vectors });
  return LocalStorage.open(dataDir, embedder, { ...config.hnsw, vectors, ...(options.readOnly ? { readOnly: true } : {}) });
}
