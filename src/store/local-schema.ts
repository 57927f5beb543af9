// The embedded store's SQLite layout: tables, the in-place migrations from formats 1 and 2, the prepared statements,
// and the row ↔ record conversions. store/local-store.ts orchestrates it with the keyword and vector index files.
import { renameSync, writeFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { indexableText } from '../ingest/chunker.ts';
import type { DocumentMetadata, DocumentRecord } from './types.ts';
import { toDocumentRecord as documentRecordOf, type DocumentColumns } from './records.ts';

/** The vector column of a chunk stored without its vector (VectorMode "none"). */
export const EMPTY_VECTOR = Buffer.alloc(0);

export interface ChunkTextRow {
  id: number;
  text: string;
  headings: string;
  title: string;
}

/** The text a stored chunk was indexed and embedded from (title, headings, text), as the ingest made it. */
export function indexedTextOf(row: ChunkTextRow): string {
  return indexableText(row.title, { headings: JSON.parse(row.headings) as string[], text: row.text });
}

export function writeFileAtomic(file: string, content: string | Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToVector(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

/** A documents row as SQLite returns it: metadata and groups are JSON text. */
export type DocumentRow = Omit<DocumentColumns, 'metadata' | 'groups'> & { metadata: string | null; groups: string | null };

export function toDocumentRecord(row: DocumentRow): DocumentRecord {
  return documentRecordOf({ ...row, metadata: row.metadata ? (JSON.parse(row.metadata) as DocumentMetadata) : null, groups: row.groups ? (JSON.parse(row.groups) as string[]) : null });
}

export function createSchema(database: Database.Database): void {
  database.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
    CREATE TABLE IF NOT EXISTS documents (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      source TEXT NOT NULL UNIQUE,
      document_key TEXT NOT NULL UNIQUE,
      title TEXT NOT NULL,
      language TEXT NOT NULL,
      format TEXT NOT NULL,
      content_hash TEXT NOT NULL,
      page_count INTEGER,
      url TEXT,
      chunk_count INTEGER NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS chunks (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
      ordinal INTEGER NOT NULL,
      text TEXT NOT NULL,
      headings TEXT NOT NULL,
      page INTEGER,
      start_offset INTEGER NOT NULL,
      end_offset INTEGER NOT NULL,
      language TEXT NOT NULL,
      token_count INTEGER NOT NULL,
      term_count INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      vector BLOB NOT NULL,
      ocr INTEGER
    );
    CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
  `);
  // Duplicate detection at ingest looks documents up by content (an index only: the format is unchanged).
  database.exec(`CREATE INDEX IF NOT EXISTS documents_by_content ON documents(content_hash)`);
  // Format 1 → 2: document metadata and reader groups.
  const columns = new Set(
    database
      .prepare<[], { name: string }>(`PRAGMA table_info(documents)`)
      .all()
      .map((column) => column.name),
  );
  if (!columns.has('metadata')) database.exec(`ALTER TABLE documents ADD COLUMN metadata TEXT`);
  if (!columns.has('groups')) database.exec(`ALTER TABLE documents ADD COLUMN groups TEXT`);
  // Chunks read by OCR are marked (a column of their own; older indexes have none read so).
  const chunkColumns = new Set(
    database
      .prepare<[], { name: string }>(`PRAGMA table_info(chunks)`)
      .all()
      .map((column) => column.name),
  );
  if (!chunkColumns.has('ocr')) database.exec(`ALTER TABLE chunks ADD COLUMN ocr INTEGER`);
  // Format 2 → 3: the postings live in keywords.bin only.
  const hasPostings = database.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'postings'`).get();
  if (hasPostings) {
    database.exec(`DROP INDEX IF EXISTS postings_by_chunk; DROP TABLE postings`);
    database.exec('VACUUM');
  }
}

export function prepareStatements(database: Database.Database) {
  return {
    generation: database.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'generation'`),
    bumpGeneration: database.prepare(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'`),
    documentBySource: database.prepare<[string], DocumentRow>(`SELECT * FROM documents WHERE source = ?`),
    documentById: database.prepare<[number], DocumentRow>(`SELECT * FROM documents WHERE id = ?`),
    documentByKey: database.prepare<[string], DocumentRow>(`SELECT * FROM documents WHERE document_key = ?`),
    documentsByContent: database.prepare<[string], DocumentRow>(`SELECT * FROM documents WHERE content_hash = ? ORDER BY id`),
    documentCount: database.prepare<[], { count: number }>(`SELECT COUNT(*) AS count FROM documents`),
    allDocuments: database.prepare<[], DocumentRow>(`SELECT * FROM documents ORDER BY source`),
    documentPage: database.prepare<[number, number], DocumentRow>(`SELECT * FROM documents ORDER BY source LIMIT ? OFFSET ?`),
    chunkIdsOfDocument: database.prepare<[number], { id: number }>(`SELECT id FROM chunks WHERE document_id = ?`),
    deleteDocument: database.prepare(`DELETE FROM documents WHERE id = ?`),
    insertDocument: database.prepare(
      `INSERT INTO documents (source, document_key, title, language, format, content_hash, page_count, url, chunk_count, updated_at, metadata, groups)
       VALUES (@source, @documentKey, @title, @language, @format, @contentHash, @pageCount, @url, @chunkCount, @updatedAt, @metadata, @groups)`,
    ),
    insertChunk: database.prepare(
      `INSERT INTO chunks (document_id, ordinal, text, headings, page, start_offset, end_offset, language, token_count, term_count, content_hash, vector, ocr)
       VALUES (@documentId, @ordinal, @text, @headings, @page, @startOffset, @endOffset, @language, @tokenCount, @termCount, @contentHash, @vector, @ocr)`,
    ),
    allChunkIds: database.prepare<[], { id: number }>(`SELECT id FROM chunks`),
    vectorOf: database.prepare<[number], { vector: Buffer }>(`SELECT vector FROM chunks WHERE id = ?`),
    allVectors: database.prepare<[], { id: number; vector: Buffer }>(`SELECT id, vector FROM chunks`),
    allChunkTexts: database.prepare<[], ChunkTextRow>(`SELECT c.id, c.text, c.headings, d.title FROM chunks c JOIN documents d ON d.id = c.document_id`),
  };
}
