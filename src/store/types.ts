// The storage seams: documents (the one writer), a keyword index and a vector index, filled by a backend chosen at
// start-up (store/local-storage.ts: SQLite + index files). Retrieval passes [chunkId, score] pairs around and loads
// chunk text only for the final top-k.
import type { Chunk, DocumentFormat } from '../ingest/types.ts';
import type { Language } from '../text/language.ts';
import type { Bm25Parameters } from '../retrieve/bm25.ts';
import type { ReadScope } from '../retrieve/read-scope.ts';

export interface DocumentInput {
  source: string;
  title: string;
  language: Language;
  format: DocumentFormat;
  contentHash: string;
  pageCount?: number;
  url?: string;
  /** Tags and department, usable in filters. */
  metadata?: DocumentMetadata;
  /** Groups allowed to read the document; absent: everyone. */
  groups?: string[];
}

export interface DocumentMetadata {
  tags?: string[];
  department?: string;
}

/** A chunk as the chunker made it, with what the index needs. */
export interface ChunkInput extends Chunk {
  /** BM25 term frequencies of the chunk's indexable text. */
  terms: Map<string, number>;
  vector: Float32Array;
}

export interface DocumentRecord extends DocumentInput {
  id: number;
  /** Public, stable document id (derived from the source path). */
  key: string;
  chunkCount: number;
  updatedAt: string;
}

export interface ChunkRecord {
  id: number;
  documentKey: string;
  ordinal: number;
  text: string;
  headings: string[];
  page: number | undefined;
  language: Language;
  title: string;
  source: string;
  url: string | undefined;
  /** The chunk's text was read by OCR. */
  ocr?: boolean;
}

export interface Posting {
  chunkId: number;
  termFrequency: number;
  chunkLength: number;
}

export interface KeywordStatistics {
  chunkCount: number;
  averageChunkLength: number;
}

export interface ChunkFilters {
  documentKeys?: string[];
  sourcePrefix?: string;
  language?: Language;
  /** Documents with any of these tags. */
  tags?: string[];
  department?: string;
}

/**
 * What one search may return: the caller's read scope (required: no search runs without one) and the request's
 * filters. Each backend resolves it its own way, inside its indexes: a cached bitset checked per posting here, a
 * WHERE clause in a database; never a list of every allowed chunk id sent with the query.
 */
export interface SearchScope {
  readonly read: ReadScope;
  readonly filters?: ChunkFilters;
}

export type ScoredChunk = [chunkId: number, score: number];

export type StorageStatus = { backend: 'embedded'; formatVersion: number } | { backend: 'postgresql'; schema: string; schemaVersion: number };

export interface ConsistencyReport {
  documents: number;
  chunks: number;
  chunksWithoutVector: number;
  vectorsWithoutChunk: number;
  documentsWithWrongChunkCount: number;
  orphanPostings: number;
}

/**
 * "indexed": vectors stored and searched (an HNSW index, in memory or in the database); "stored": stored but not
 * indexed (ranking gives them no weight now; a real model's vectors are too costly to compute again); "none": neither,
 * for an embedder that computes a vector again at once (the built-in one): 2 KB and an HNSW insertion saved per chunk.
 * An embedded index opened "indexed" later computes the vectors it lacks.
 */
export type VectorMode = 'indexed' | 'stored' | 'none';

/** What the store knows of the embedder. */
export interface StoreEmbedder {
  id: string;
  dimensions: number;
  embedDocumentNow?(text: string): Float32Array;
}

/**
 * Documents, chunks and their metadata. It is also the one writer: a document, its chunks and their keyword and
 * vector entries are written together (all or nothing), so the indexes below are read-only seams. Every call is
 * asynchronous: a backend may be a database reached over the network and shared by several API processes.
 */
/** What the document list is filtered by (the admin console's search box and filters); every field optional. */
export interface DocumentQuery {
  /** Part of the title or file name, case-insensitive for Latin letters. */
  text?: string;
  format?: DocumentRecord['format'];
  language?: 'zh' | 'en';
  tag?: string;
  department?: string;
  /** Readable by this reader group (documents open to everyone are not "of" a group). */
  group?: string;
}

export interface DocumentStore {
  readonly embedderId: string;
  readonly dimensions: number;
  /** What the store keeps of chunk vectors: "none" means the ingest need not compute them. */
  readonly vectorMode: VectorMode;
  upsertDocument(document: DocumentInput, chunks: ChunkInput[]): Promise<DocumentRecord>;
  deleteDocument(source: string): Promise<boolean>;
  getDocumentBySource(source: string): Promise<DocumentRecord | undefined>;
  /** Documents with this content hash (the same bytes, metadata and pipeline), oldest first. */
  getDocumentsByContentHash(hash: string): Promise<DocumentRecord[]>;
  /** By public id (DocumentRecord.key). */
  getDocumentByKey(key: string): Promise<DocumentRecord | undefined>;
  documentCount(): Promise<number>;
  /** Documents ordered by source; a page of them when given. */
  listDocuments(page?: { offset: number; limit: number }): Promise<DocumentRecord[]>;
  /** Documents matching every given criterion, ordered by source, a page of them, and how many match in all. */
  findDocuments(query: DocumentQuery, page: { offset: number; limit: number }): Promise<{ documents: DocumentRecord[]; total: number }>;
  /** A document's chunks as indexed (text, headings, location and terms), in order. */
  documentChunks(source: string): Promise<Omit<ChunkInput, 'vector'>[]>;
  getChunks(ids: readonly number[]): Promise<Map<number, ChunkRecord>>;
}

/** BM25 over the chunks' terms. It owns its tokenizer, recorded with the index: opened with another, it says so. */
export interface KeywordIndex {
  /** The Chinese tokenizer the terms were made with (text/tokenize.ts). */
  readonly tokenizer: string;
  /** The top chunks by BM25 for weighted query terms (IDF over the whole index) among those the scope allows. */
  search(queryTerms: ReadonlyMap<string, number>, scope: SearchScope, limit: number, parameters: Bm25Parameters): Promise<ScoredChunk[]>;
  documentFrequencies(terms: readonly string[]): Promise<Map<string, number>>;
  /** Term frequencies of each chunk (pseudo-relevance feedback, diversity, duplicate passages). */
  chunkTerms(chunkIds: readonly number[]): Promise<Map<number, Map<string, number>>>;
  statistics(): Promise<KeywordStatistics>;
}

/** Nearest chunks by cosine similarity of the embedder's vectors (empty when vectors are not indexed). */
export interface VectorIndex {
  search(vector: Float32Array, scope: SearchScope, limit: number): Promise<ScoredChunk[]>;
}

/** One knowledge base's storage: the three seams, and what concerns them together. */
export interface Storage {
  readonly documents: DocumentStore;
  readonly keywords: KeywordIndex;
  readonly vectors: VectorIndex;
  /** Picks up writes made elsewhere (another process or node): a generation check, cheap when nothing changed. */
  refresh(): Promise<void>;
  /** The index generation this instance reflects (it changes with every write). */
  generation(): Promise<number>;
  /**
   * Persists what is kept beside the durable records (index files here); in the middle of an ingest
   * (`complete: false`) only what is cheap to save.
   */
  flush(options?: { complete?: boolean }): Promise<void>;
  /** Checks the invariants a crash must not break (every chunk indexed once, every document whole). */
  checkConsistency(): Promise<ConsistencyReport>;
  /** Which backend this is and the state of its layout, for /readyz. */
  describe(): Promise<StorageStatus>;
  close(): Promise<void>;
}
