// The Store seam: documents, chunks, keyword postings and vectors, written all or nothing per document.
// Retrieval passes [chunkId, score] pairs around and loads chunk text only for the final top-k.
import type { Chunk, DocumentFormat } from '../ingest/types.ts';
import type { Language } from '../text/language.ts';
import type { Bm25Parameters } from '../retrieve/bm25.ts';

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
  /** The reader's groups: only documents open to everyone or to one of these groups. Absent: no restriction. */
  readerGroups?: string[];
}

export type ScoredChunk = [chunkId: number, score: number];

export interface Store {
  readonly embedderId: string;
  readonly dimensions: number;
  /** What the store keeps of chunk vectors: "none" means the ingest need not compute them. */
  readonly vectorMode: 'indexed' | 'stored' | 'none';
  upsertDocument(document: DocumentInput, chunks: ChunkInput[]): DocumentRecord;
  deleteDocument(source: string): boolean;
  getDocumentBySource(source: string): DocumentRecord | undefined;
  getDocumentsByContentHash(hash: string): DocumentRecord[];
  /** By public id (DocumentRecord.key). */
  getDocumentByKey(key: string): DocumentRecord | undefined;
  documentCount(): number;
  listDocuments(): DocumentRecord[];
  documentFrequencies(terms: readonly string[]): Map<string, number>;
  /** Term frequencies of each chunk (for pseudo-relevance feedback). */
  chunkTerms(chunkIds: readonly number[]): Map<number, Map<string, number>>;
  /** Every chunk's term frequencies, chunk by chunk (to learn the latent projection). */
  allChunkTerms(): Iterable<[number, Map<string, number>]>;
  /** The index generation this instance has loaded (it changes with every write). */
  generation(): number;
  chunkIds(): readonly number[];
  keywordStatistics(): KeywordStatistics;
  /** The top chunks by BM25 for weighted query terms (IDF over the whole index), among the allowed chunks when given. */
  keywordSearch(queryTerms: ReadonlyMap<string, number>, parameters: Bm25Parameters, limit: number, allowed?: ReadonlySet<number>): ScoredChunk[];
  denseSearch(vector: Float32Array, limit: number, allowed?: ReadonlySet<number>): ScoredChunk[];
  chunksMatching(filters: ChunkFilters): Set<number> | undefined;
  getChunks(ids: readonly number[]): Map<number, ChunkRecord>;
  /** Picks up writes made by another process (an ingest run while the server is up). */
  refresh(): void;
  /**
   * Persists the vector and keyword indexes (copies of the database, which is durable after each document); in the
   * middle of an ingest (`complete: false`) the keyword index only when much has changed.
   */
  flush(options?: { complete?: boolean }): void;
  close(): void;
}
