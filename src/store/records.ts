// Rows of the documents and chunks tables as records, for every backend: the column names are the same in SQLite and
// PostgreSQL, only their encoding differs (JSON text in SQLite, jsonb and text[] in PostgreSQL), so each backend
// decodes its JSON columns and hands the row here.
import { createHash } from 'node:crypto';
import type { Language } from '../text/language.ts';
import type { ChunkInput, ChunkRecord, DocumentInput, DocumentMetadata, DocumentRecord } from './types.ts';

/** A document's public id: stable across re-ingestion, rebuilds and backends because it derives from the source path. */
export function documentKeyOf(source: string): string {
  return createHash('sha256').update(source).digest('hex').slice(0, 16);
}

export interface DocumentColumns {
  id: number;
  source: string;
  document_key: string;
  title: string;
  language: Language;
  format: DocumentInput['format'];
  content_hash: string;
  page_count: number | null;
  url: string | null;
  chunk_count: number;
  updated_at: string;
  metadata: DocumentMetadata | null;
  groups: string[] | null;
}

export function toDocumentRecord(row: DocumentColumns): DocumentRecord {
  return {
    id: row.id,
    key: row.document_key,
    source: row.source,
    title: row.title,
    language: row.language,
    format: row.format,
    contentHash: row.content_hash,
    ...(row.page_count !== null ? { pageCount: row.page_count } : {}),
    ...(row.url !== null ? { url: row.url } : {}),
    chunkCount: row.chunk_count,
    updatedAt: row.updated_at,
    ...(row.metadata ? { metadata: row.metadata } : {}),
    ...(row.groups && row.groups.length > 0 ? { groups: row.groups } : {}),
  };
}

/** A chunk with its document's title, source and URL (the join every read of chunk text makes). */
export interface ChunkColumns {
  id: number;
  document_key: string;
  ordinal: number;
  text: string;
  headings: string[];
  page: number | null;
  language: Language;
  title: string;
  source: string;
  url: string | null;
  /** SQLite keeps 1/0/null, PostgreSQL true/false. */
  ocr: boolean | number | null;
}

export function toChunkRecord(row: ChunkColumns): ChunkRecord {
  return {
    id: row.id,
    documentKey: row.document_key,
    ordinal: row.ordinal,
    text: row.text,
    headings: row.headings,
    page: row.page ?? undefined,
    language: row.language,
    title: row.title,
    source: row.source,
    url: row.url ?? undefined,
    ...(row.ocr ? { ocr: true } : {}),
  };
}

/** A chunk as it was written (for re-embedding and for moving between backends). */
export interface StoredChunkColumns {
  id: number;
  ordinal: number;
  text: string;
  headings: string[];
  page: number | null;
  start_offset: number;
  end_offset: number;
  language: Language;
  token_count: number;
  content_hash: string;
  ocr: boolean | number | null;
}

export function toStoredChunk(row: StoredChunkColumns, terms: Map<string, number> | undefined): Omit<ChunkInput, 'vector'> {
  return {
    ordinal: row.ordinal,
    text: row.text,
    headings: row.headings,
    page: row.page ?? undefined,
    startOffset: row.start_offset,
    endOffset: row.end_offset,
    language: row.language,
    tokenCount: row.token_count,
    contentHash: row.content_hash,
    ...(row.ocr ? { ocr: true } : {}),
    terms: terms ?? new Map(),
  };
}
