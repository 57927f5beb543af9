// The embedded backend behind the storage seams: one LocalStore (SQLite + keyword and vector index files in the data
// directory) fills DocumentStore, KeywordIndex and VectorIndex. Its work is synchronous and in process; the seams
// are asynchronous so that a backend reached over the network (PostgreSQL) fits the same interfaces.
import { currentCjkTokenizer } from '../text/tokenize.ts';
import type { Bm25Parameters } from '../retrieve/bm25.ts';
import { LocalStore, STORE_FORMAT_VERSION, type HnswSettings } from './local-store.ts';
import type {
  ChunkInput,
  ConsistencyReport,
  DocumentInput,
  DocumentRecord,
  DocumentStore,
  KeywordIndex,
  ScoredChunk,
  SearchScope,
  Storage,
  StorageStatus,
  StoreEmbedder,
  VectorIndex,
} from './types.ts';

export class LocalStorage implements Storage {
  readonly documents: DocumentStore;
  readonly keywords: KeywordIndex;
  readonly vectors: VectorIndex;

  private constructor(
    /** The synchronous engine, for tests and tools that inspect the embedded index itself. */
    readonly engine: LocalStore,
  ) {
    this.documents = {
      embedderId: engine.embedderId,
      dimensions: engine.dimensions,
      vectorMode: engine.vectorMode,
      upsertDocument: async (document: DocumentInput, chunks: ChunkInput[]): Promise<DocumentRecord> => engine.upsertDocument(document, chunks),
      deleteDocument: async (source) => engine.deleteDocument(source),
      getDocumentBySource: async (source) => engine.getDocumentBySource(source),
      getDocumentsByContentHash: async (hash) => engine.getDocumentsByContentHash(hash),
      getDocumentByKey: async (key) => engine.getDocumentByKey(key),
      documentCount: async () => engine.documentCount(),
      listDocuments: async (page) => engine.listDocuments(page),
      findDocuments: async (query, page) => engine.findDocuments(query, page),
      documentChunks: async (source) => engine.documentChunks(source),
      getChunks: async (ids) => engine.getChunks(ids),
    };
    this.keywords = {
      tokenizer: currentCjkTokenizer(),
      search: async (queryTerms: ReadonlyMap<string, number>, scope: SearchScope, limit: number, parameters: Bm25Parameters): Promise<ScoredChunk[]> =>
        engine.keywordSearch(queryTerms, parameters, limit, engine.chunkScope(scope)),
      documentFrequencies: async (terms) => engine.documentFrequencies(terms),
      chunkTerms: async (ids) => engine.chunkTerms(ids),
      statistics: async () => engine.keywordStatistics(),
    };
    this.vectors = {
      search: async (vector: Float32Array, scope: SearchScope, limit: number): Promise<ScoredChunk[]> => engine.denseSearch(vector, limit, engine.chunkScope(scope)),
    };
  }

  /**
   * Opens (or creates) the index in dataDir for this embedder. An index made by another embedder, tokenizer or format
   * version is refused with a message that says how to rebuild.
   */
  static open(dataDir: string, embedder: StoreEmbedder, settings: HnswSettings): LocalStorage {
    return new LocalStorage(LocalStore.open(dataDir, embedder, settings));
  }

  async refresh(): Promise<void> {
    this.engine.refresh();
  }

  async generation(): Promise<number> {
    return this.engine.generation();
  }

  async flush(options?: { complete?: boolean }): Promise<void> {
    this.engine.flush(options);
  }

  async checkConsistency(): Promise<ConsistencyReport> {
    return this.engine.checkConsistency();
  }

  async describe(): Promise<StorageStatus> {
    return { backend: 'embedded', formatVersion: STORE_FORMAT_VERSION };
  }

  async close(): Promise<void> {
    this.engine.close();
  }
}
