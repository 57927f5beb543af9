// The storage backend chosen at start-up from the configuration. The embedded one (SQLite + index files in the data
// directory) is the only one today; a database backend fills the same seams (store/types.ts).
import type { Config } from '../config.ts';
import { vectorModeFor } from '../embed/index.ts';
import type { Embedder } from '../embed/types.ts';
import { LocalStorage } from './local-storage.ts';
import type { Storage } from './types.ts';

/**
 * Opens one knowledge base's storage in `dataDir` (default: the configured data directory); `readOnly` for a reader
 * beside the writing process (a query thread), which follows its writes and writes nothing.
 */
export async function openStorage(config: Readonly<Config>, embedder: Embedder, dataDir = config.dataDir, options: { readOnly?: boolean } = {}): Promise<Storage> {
  // Vectors that ranking does not search are neither indexed nor, when the embedder computes them again at once,
  // stored (at 100k chunks: 2 KB and an HNSW insertion each).
  return LocalStorage.open(dataDir, embedder, { ...config.hnsw, vectors: vectorModeFor(config, embedder), ...(options.readOnly ? { readOnly: true } : {}) });
}
