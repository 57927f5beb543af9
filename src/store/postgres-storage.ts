// The PostgreSQL backend behind the storage seams: documents, chunks, keyword postings and
// vectors in one database that several API processes share, reached with `pg`. One knowledge base is one schema.
//
// Keyword search is BM25 computed in SQL over a postings table (term, chunk, tf) with the collection statistics kept
// in the same transaction as every write, so that ranking follows the embedded index's formula and needs no server
// extension (Chinese works: the terms are made by our tokenizer, bigrams included, before they reach the database).
// Vectors live in a pgvector column with an HNSW (cosine) index, used only when ranking searches vectors; a server
// without the extension serves a knowledge base that keeps no vectors (the built-in embedder) and refuses, with the
// reason, one that needs them.
//
// Reads go to the database every time, so another node's writes are seen at once: refresh() has nothing to do.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { KbError, describeError } from '../errors.ts';
import type { Bm25Parameters } from '../retrieve/bm25.ts';
import { inverseDocumentFrequency } from '../retrieve/bm25.ts';
import { currentCjkTokenizer } from '../text/tokenize.ts';
import { applyMigrations, inTransaction, lockSchema, poolFor } from './postgres-database.ts';
import { documentKeyOf, toChunkRecord, toDocumentRecord, toStoredChunk, type ChunkColumns, type DocumentColumns, type StoredChunkColumns } from './records.ts';
import type {
  ChunkInput,
  ChunkRecord,
  ConsistencyReport,
  DocumentInput,
  DocumentRecord,
  DocumentStore,
  KeywordIndex,
  KeywordStatistics,
  ScoredChunk,
  SearchScope,
  Storage,
  StorageStatus,
  StoreEmbedder,
  VectorMode,
  VectorIndex,
} from './types.ts';

const MIGRATIONS: readonly ((schema: string, dimensions: number, vectors: boolean) => string)[] = [
  (schema, dimensions, vectors) => `
    CREATE TABLE ${schema}.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE ${schema}.documents (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      source text NOT NULL UNIQUE,
      document_key text NOT NULL UNIQUE,
      title text NOT NULL,
      language text NOT NULL,
      format text NOT NULL,
      content_hash text NOT NULL,
      page_count integer,
      url text,
      chunk_count integer NOT NULL,
      updated_at text NOT NULL,
      metadata jsonb,
      groups text[]
    );
    CREATE INDEX ON ${schema}.documents (content_hash);
    CREATE TABLE ${schema}.chunks (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      document_id integer NOT NULL REFERENCES ${schema}.documents(id) ON DELETE CASCADE,
      ordinal integer NOT NULL,
      text text NOT NULL,
      headings jsonb NOT NULL,
      page integer,
      start_offset integer NOT NULL,
      end_offset integer NOT NULL,
      language text NOT NULL,
      token_count integer NOT NULL,
      term_count integer NOT NULL,
      content_hash text NOT NULL
      ${vectors ? `, embedding vector(${dimensions})` : ''}
    );
    CREATE INDEX ON ${schema}.chunks (document_id);
    ${vectors ? `CREATE INDEX ON ${schema}.chunks USING hnsw (embedding vector_cosine_ops);` : ''}
    CREATE TABLE ${schema}.postings (
      term text NOT NULL,
      chunk_id integer NOT NULL REFERENCES ${schema}.chunks(id) ON DELETE CASCADE,
      tf integer NOT NULL,
      PRIMARY KEY (term, chunk_id)
    );
    CREATE INDEX ON ${schema}.postings (chunk_id);
    CREATE TABLE ${schema}.statistics (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), chunk_count bigint NOT NULL, total_length bigint NOT NULL, generation bigint NOT NULL);
    INSERT INTO ${schema}.statistics VALUES (true, 0, 0, 0);
  `,
  // 2: each posting carries its chunk's length, and the primary key's index covers tf and that length, so that BM25
  // over an unrestricted scope reads the index alone (an index-only scan) instead of a heap row and a chunk per
  // posting: 14 ms to 5 ms a query at 11k chunks on Debian's server (tmp measurements in docs/EVALUATION.md).
  (schema) => `
    ALTER TABLE ${schema}.postings ADD COLUMN chunk_length integer;
    UPDATE ${schema}.postings p SET chunk_length = c.term_count FROM ${schema}.chunks c WHERE c.id = p.chunk_id;
    ALTER TABLE ${schema}.postings ALTER COLUMN chunk_length SET NOT NULL;
    ALTER TABLE ${schema}.postings DROP CONSTRAINT postings_pkey;
    ALTER TABLE ${schema}.postings ADD PRIMARY KEY (term, chunk_id) INCLUDE (tf, chunk_length);
  `,
  // 3: document frequencies kept in a table of their own, in each write's transaction (a query counted the postings of
  // every term it looked up, the costliest statement of a search with RM3's twenty expansion terms), and the postings
  // of a chunk read from a covering index (RM3 reads the terms of its feedback chunks).
  (schema) => `
    CREATE TABLE ${schema}.terms (term text PRIMARY KEY, document_frequency integer NOT NULL);
    INSERT INTO ${schema}.terms SELECT term, count(*) FROM ${schema}.postings GROUP BY term;
    DROP INDEX IF EXISTS ${schema}.postings_chunk_id_idx;
    CREATE INDEX postings_by_chunk ON ${schema}.postings (chunk_id) INCLUDE (term, tf);
  `,
  // 4: chunks read by OCR (a scanned page, an image) are marked, for their citations.
  (schema) => `ALTER TABLE ${schema}.chunks ADD COLUMN ocr boolean NOT NULL DEFAULT false;`,
];

/** Version of this backend's layout: each entry of MIGRATIONS brings a schema to the next one. */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

export interface PostgresStorageOptions {
  /** A pool of the deployment's database (KB_DATABASE_URL); shared by every knowledge base of the process. */
  pool: pg.Pool;
  /** The knowledge base's schema: lower-case letters, digits and _, at most 40. */
  schema: string;
  embedder: StoreEmbedder;
  vectors: VectorMode;
}

function vectorLiteral(vector: Float32Array): string {
  return `[${Array.from(vector).join(',')}]`;
}

/** The WHERE clause of a scope over `c` (chunks) and `d` (documents), with its parameters from `$first` on. */
function scopeClause(scope: SearchScope, first: number): { sql: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const parameter = (value: unknown) => {
    values.push(value);
    return `$${first + values.length - 1}`;
  };
  if (scope.read.readerGroups !== 'all') clauses.push(`(d.groups IS NULL OR d.groups && ${parameter([...scope.read.readerGroups])}::text[])`);
  const filters = scope.filters ?? {};
  if (filters.documentKeys && filters.documentKeys.length > 0) clauses.push(`d.document_key = ANY(${parameter(filters.documentKeys)}::text[])`);
  if (filters.sourcePrefix) clauses.push(`starts_with(d.source, ${parameter(filters.sourcePrefix)})`);
  if (filters.language) clauses.push(`c.language = ${parameter(filters.language)}`);
  if (filters.tags && filters.tags.length > 0) clauses.push(`(d.metadata -> 'tags') ?| ${parameter(filters.tags)}::text[]`);
  if (filters.department) clauses.push(`d.metadata ->> 'department' = ${parameter(filters.department)}`);
  return { sql: clauses.length > 0 ? clauses.join(' AND ') : 'true', values };
}

/** How long BM25's collection statistics are reused (ms; 0..10000): see PostgresStorage.statistics. */
const STATISTICS_TTL_MS = 1000;

/** Upkeep after a write that changed the chunk count by this share of it (0.05..1)… */
const UPKEEP_SHARE = 0.2;
/** …and by at least this many chunks (small knowledge bases are left to autovacuum). */
const UPKEEP_MIN_CHUNKS = 2000;

export class PostgresStorage implements Storage {
  readonly documents: DocumentStore;
  /** The chunk count at opening or at the last upkeep (flush). */
  private chunksAtUpkeep = 0;
  private statisticsCache: { readAt: number; value: Promise<KeywordStatistics>; empty: boolean } | undefined;
  readonly keywords: KeywordIndex;
  readonly vectors: VectorIndex;
  private readonly schema: string;

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
    private readonly embedder: StoreEmbedder,
    private readonly vectorMode: VectorMode,
  ) {
    this.schema = schema;
    const chunkTerms = (ids: readonly number[]) => this.chunkTerms(ids);
    this.documents = {
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      vectorMode,
      upsertDocument: (document, chunks) => this.upsertDocument(document, chunks),
      deleteDocument: (source) => this.deleteDocument(source),
      async getDocumentBySource(source) {
        const { rows } = await pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents WHERE source = $1`, [source]);
        return rows[0] ? toDocumentRecord(rows[0]) : undefined;
      },
      async getDocumentsByContentHash(hash) {
        const { rows } = await pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents WHERE content_hash = $1 ORDER BY id`, [hash]);
        return rows.map(toDocumentRecord);
      },
      async getDocumentByKey(key) {
        const { rows } = await pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents WHERE document_key = $1`, [key]);
        return rows[0] ? toDocumentRecord(rows[0]) : undefined;
      },
      async documentCount() {
        const { rows } = await pool.query<{ count: number }>(`SELECT count(*)::integer AS count FROM ${schema}.documents`);
        return rows[0]!.count;
      },
      async listDocuments(page) {
        const { rows } = page
          ? await pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents ORDER BY source COLLATE "C" LIMIT $1 OFFSET $2`, [page.limit, page.offset])
          : await pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents ORDER BY source COLLATE "C"`);
        return rows.map(toDocumentRecord);
      },
      async findDocuments(query, page) {
        const clauses: string[] = [];
        const values: unknown[] = [];
        const parameter = (value: unknown) => {
          values.push(value);
          return `$${values.length}`;
        };
        if (query.text) {
          const pattern = parameter(`%${query.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`);
          clauses.push(`(title ILIKE ${pattern} OR source ILIKE ${pattern})`);
        }
        if (query.format) clauses.push(`format = ${parameter(query.format)}`);
        if (query.language) clauses.push(`language = ${parameter(query.language)}`);
        if (query.department) clauses.push(`metadata->>'department' = ${parameter(query.department)}`);
        if (query.tag) clauses.push(`metadata->'tags' ? ${parameter(query.tag)}`);
        if (query.group) clauses.push(`${parameter(query.group)} = ANY(groups)`);
        const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
        const [count, rows] = await Promise.all([
          pool.query<{ count: number }>(`SELECT count(*)::integer AS count FROM ${schema}.documents ${where}`, values),
          pool.query<DocumentColumns>(`SELECT * FROM ${schema}.documents ${where} ORDER BY source COLLATE "C" LIMIT ${page.limit | 0} OFFSET ${page.offset | 0}`, values),
        ]);
        return { documents: rows.rows.map(toDocumentRecord), total: count.rows[0]!.count };
      },
      async documentChunks(source) {
        const { rows } = await pool.query<StoredChunkColumns>(
          `SELECT c.id, c.ordinal, c.text, c.headings, c.page, c.start_offset, c.end_offset, c.language, c.token_count, c.content_hash, c.ocr
           FROM ${schema}.chunks c JOIN ${schema}.documents d ON d.id = c.document_id WHERE d.source = $1 ORDER BY c.ordinal`,
          [source],
        );
        const terms = await chunkTerms(rows.map((row) => row.id));
        return rows.map((row) => toStoredChunk(row, terms.get(row.id)));
      },
      async getChunks(ids) {
        const result = new Map<number, ChunkRecord>();
        if (ids.length === 0) return result;
        const { rows } = await pool.query<ChunkColumns>(
          `SELECT c.id, d.document_key, c.ordinal, c.text, c.headings, c.page, c.language, d.title, d.source, d.url, c.ocr
           FROM ${schema}.chunks c JOIN ${schema}.documents d ON d.id = c.document_id WHERE c.id = ANY($1::integer[])`,
          [[...ids]],
        );
        for (const row of rows) result.set(row.id, toChunkRecord(row));
        return result;
      },
    };
    this.keywords = {
      tokenizer: currentCjkTokenizer(),
      search: (queryTerms, scope, limit, parameters) => this.keywordSearch(queryTerms, scope, limit, parameters),
      documentFrequencies: (terms) => this.documentFrequencies(terms),
      chunkTerms: (ids) => this.chunkTerms(ids),
      statistics: () => this.statistics(),
    };
    this.vectors = {
      search: async (vector, scope, limit) => {
        if (this.vectorMode !== 'indexed' || limit <= 0) return [];
        const where = scopeClause(scope, 3);
        try {
          const { rows } = await pool.query<{ id: number; similarity: number }>(
            `SELECT c.id, 1 - (c.embedding <=> $1::vector) AS similarity FROM ${schema}.chunks c JOIN ${schema}.documents d ON d.id = c.document_id
             WHERE c.embedding IS NOT NULL AND ${where.sql} ORDER BY c.embedding <=> $1::vector LIMIT $2`,
            [vectorLiteral(vector), limit, ...where.values],
          );
          return rows.map((row): ScoredChunk => [row.id, Number(row.similarity)]);
        } catch (error) {
          // Another node switched this collection to a model of another size a moment ago, and this node has not
          // reopened it yet (it does within a second): rank by keywords alone until then rather than fail.
          if (/different vector dimensions/.test(describeError(error))) return [];
          throw error;
        }
      },
    };
  }

  /**
   * Opens a knowledge base's schema, creating or migrating it under an advisory lock (two nodes starting at once
   * migrate once). A schema made for another embedder or tokenizer is refused with the way to rebuild.
   */
  static async open(options: PostgresStorageOptions): Promise<PostgresStorage> {
    const { pool, schema, embedder, vectors } = options;
    if (!/^[a-z0-9_]{1,40}$/.test(schema)) throw new Error(`"${schema}" is not a usable schema name (lower-case letters, digits and _, at most 40)`);
    await inTransaction(pool, async (client) => {
      await lockSchema(client, schema);
      const keepsVectors = vectors !== 'none';
      if (keepsVectors) {
        try {
          await client.query('SAVEPOINT vector_extension');
          await client.query('CREATE EXTENSION IF NOT EXISTS vector');
        } catch (error) {
          await client.query('ROLLBACK TO SAVEPOINT vector_extension');
          throw new KbError('KB_ERR_INDEX_MISMATCH', {
            dataDir: `PostgreSQL schema ${schema}`,
            found: `a server without the pgvector extension (${describeError(error)})`,
            expected: `pgvector for the vectors of ${embedder.id}: install it, or use the built-in embedder, which keeps no vectors`,
          });
        }
      }
      const { from } = await applyMigrations(
        client,
        schema,
        MIGRATIONS.map((migration) => () => migration(schema, embedder.dimensions, keepsVectors)),
      );
      if (from === 0) {
        await client.query(`INSERT INTO ${schema}.meta VALUES ('embedder_id', $1), ('dimensions', $2), ('cjk_tokenizer', $3), ('vectors', $4)`, [
          embedder.id,
          String(embedder.dimensions),
          currentCjkTokenizer(),
          keepsVectors ? 'kept' : 'none',
        ]);
      }
      const meta = new Map((await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${schema}.meta`)).rows.map((row) => [row.key, row.value]));
      if (meta.get('embedder_id') !== embedder.id || meta.get('dimensions') !== String(embedder.dimensions)) {
        throw new KbError('KB_ERR_INDEX_MISMATCH', { dataDir: `PostgreSQL schema ${schema}`, found: meta.get('embedder_id') ?? '?', expected: embedder.id });
      }
      if (meta.get('cjk_tokenizer') !== currentCjkTokenizer())
        throw new KbError('KB_ERR_INDEX_TOKENIZER', { dataDir: `PostgreSQL schema ${schema}`, found: meta.get('cjk_tokenizer') ?? '?', expected: currentCjkTokenizer() });
      if (keepsVectors && meta.get('vectors') !== 'kept') {
        throw new KbError('KB_ERR_INDEX_MISMATCH', { dataDir: `PostgreSQL schema ${schema}`, found: 'a schema made without vectors', expected: `vectors of ${embedder.id}` });
      }
    });
    const storage = new PostgresStorage(pool, schema, embedder, vectors);
    const { rows: counted } = await pool.query<{ chunk_count: string }>(`SELECT chunk_count FROM ${schema}.statistics`);
    storage.chunksAtUpkeep = Number(counted[0]!.chunk_count);
    return storage;
  }

  private async upsertDocument(document: DocumentInput, chunks: ChunkInput[]): Promise<DocumentRecord> {
    const schema = this.schema;
    const keepsVectors = this.vectorMode !== 'none';
    for (const chunk of chunks) {
      if (keepsVectors && chunk.vector.length !== this.embedder.dimensions)
        throw new KbError('KB_ERR_EMBEDDER', { details: `a vector has ${chunk.vector.length} dimensions, the index ${this.embedder.dimensions}` });
    }
    const written = await inTransaction(this.pool, async (client) => {
      // Writers of one knowledge base take turns from here (they all update its statistics row): the term counts below
      // are then never updated by two transactions in different orders.
      await client.query(`SELECT 1 FROM ${schema}.statistics FOR UPDATE`);
      const removed = await this.removeDocument(client, document.source);
      const { rows } = await client.query<DocumentColumns>(
        `INSERT INTO ${schema}.documents (source, document_key, title, language, format, content_hash, page_count, url, chunk_count, updated_at, metadata, groups)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
        [
          document.source,
          documentKeyOf(document.source),
          document.title,
          document.language,
          document.format,
          document.contentHash,
          document.pageCount ?? null,
          document.url ?? null,
          chunks.length,
          new Date().toISOString(),
          document.metadata ? JSON.stringify(document.metadata) : null,
          document.groups && document.groups.length > 0 ? document.groups : null,
        ],
      );
      const documentRow = rows[0]!;
      let totalLength = 0;
      const termCounts = chunks.map((chunk) => {
        let termCount = 0;
        for (const frequency of chunk.terms.values()) termCount += frequency;
        totalLength += termCount;
        return termCount;
      });
      // All chunks in one statement (a round trip per chunk made ingestion wait on the network, not on the database).
      const columns = {
        ordinals: chunks.map((chunk) => chunk.ordinal),
        texts: chunks.map((chunk) => chunk.text),
        headings: chunks.map((chunk) => JSON.stringify(chunk.headings)),
        pages: chunks.map((chunk) => chunk.page ?? null),
        starts: chunks.map((chunk) => chunk.startOffset),
        ends: chunks.map((chunk) => chunk.endOffset),
        languages: chunks.map((chunk) => chunk.language),
        tokenCounts: chunks.map((chunk) => chunk.tokenCount),
        hashes: chunks.map((chunk) => chunk.contentHash),
        ocr: chunks.map((chunk) => chunk.ocr === true),
      };
      const inserted =
        chunks.length === 0
          ? { rows: [] as { id: number; ordinal: number }[] }
          : await client.query<{ id: number; ordinal: number }>(
              `INSERT INTO ${schema}.chunks (document_id, ordinal, text, headings, page, start_offset, end_offset, language, token_count, term_count, content_hash, ocr${keepsVectors ? ', embedding' : ''})
               SELECT $1::integer, * FROM unnest($2::integer[], $3::text[], $4::jsonb[], $5::integer[], $6::integer[], $7::integer[], $8::text[], $9::integer[], $10::integer[], $11::text[], $12::boolean[]${keepsVectors ? ', $13::vector[]' : ''})
               RETURNING id, ordinal`,
              [
                documentRow.id,
                columns.ordinals,
                columns.texts,
                columns.headings,
                columns.pages,
                columns.starts,
                columns.ends,
                columns.languages,
                columns.tokenCounts,
                termCounts,
                columns.hashes,
                columns.ocr,
                ...(keepsVectors ? [chunks.map((chunk) => vectorLiteral(chunk.vector))] : []),
              ],
            );
      const idByOrdinal = new Map(inserted.rows.map((row) => [row.ordinal, row.id]));
      const terms: string[] = [];
      const chunkIds: number[] = [];
      const frequencies: number[] = [];
      const lengths: number[] = [];
      for (const [index, chunk] of chunks.entries()) {
        const chunkId = idByOrdinal.get(chunk.ordinal)!;
        for (const [term, frequency] of chunk.terms) {
          terms.push(term);
          chunkIds.push(chunkId);
          frequencies.push(frequency);
          lengths.push(termCounts[index]!);
        }
      }
      if (terms.length > 0) {
        await client.query(`INSERT INTO ${schema}.postings (term, chunk_id, tf, chunk_length) SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[], $4::integer[])`, [
          terms,
          chunkIds,
          frequencies,
          lengths,
        ]);
        const chunksWithTerm = new Map<string, number>();
        for (const term of terms) chunksWithTerm.set(term, (chunksWithTerm.get(term) ?? 0) + 1);
        const sorted = [...chunksWithTerm.keys()].sort();
        await client.query(
          `INSERT INTO ${schema}.terms AS t (term, document_frequency) SELECT * FROM unnest($1::text[], $2::integer[])
           ON CONFLICT (term) DO UPDATE SET document_frequency = t.document_frequency + excluded.document_frequency`,
          [sorted, sorted.map((term) => chunksWithTerm.get(term)!)],
        );
      }
      await client.query(`UPDATE ${schema}.statistics SET chunk_count = chunk_count + $1, total_length = total_length + $2, generation = generation + 1`, [
        chunks.length - removed.chunks,
        totalLength - removed.length,
      ]);
      return toDocumentRecord(documentRow);
    });
    this.statisticsCache = undefined;
    return written;
  }

  /** Deletes a document inside the caller's transaction; returns what left the statistics. */
  private async removeDocument(client: pg.PoolClient, source: string): Promise<{ chunks: number; length: number; found: boolean }> {
    const { rows } = await client.query<{ chunks: number; length: number }>(
      `SELECT count(c.id)::integer AS chunks, coalesce(sum(c.term_count), 0)::integer AS length FROM ${this.schema}.documents d LEFT JOIN ${this.schema}.chunks c ON c.document_id = d.id WHERE d.source = $1 GROUP BY d.id`,
      [source],
    );
    if (rows.length === 0) return { chunks: 0, length: 0, found: false };
    const schema = this.schema;
    const { rows: emptied } = await client.query<{ term: string }>(
      `WITH gone AS (SELECT p.term, count(*)::integer AS chunks FROM ${schema}.postings p JOIN ${schema}.chunks c ON c.id = p.chunk_id JOIN ${schema}.documents d ON d.id = c.document_id
                     WHERE d.source = $1 GROUP BY p.term)
       UPDATE ${schema}.terms t SET document_frequency = t.document_frequency - gone.chunks FROM gone WHERE t.term = gone.term
       RETURNING CASE WHEN t.document_frequency <= 0 THEN t.term END AS term`,
      [source],
    );
    // Only this document's terms can have dropped to nothing: the term table is not scanned on every replacement.
    const unused = emptied.map((row) => row.term).filter((term): term is string => term !== null);
    if (unused.length > 0) await client.query(`DELETE FROM ${schema}.terms WHERE term = ANY($1::text[])`, [unused]);
    await client.query(`DELETE FROM ${schema}.documents WHERE source = $1`, [source]);
    return { ...rows[0]!, found: true };
  }

  private async deleteDocument(source: string): Promise<boolean> {
    const found = await inTransaction(this.pool, async (client) => {
      await client.query(`SELECT 1 FROM ${this.schema}.statistics FOR UPDATE`);
      const removed = await this.removeDocument(client, source);
      if (removed.found)
        await client.query(`UPDATE ${this.schema}.statistics SET chunk_count = chunk_count - $1, total_length = total_length - $2, generation = generation + 1`, [removed.chunks, removed.length]);
      return removed.found;
    });
    this.statisticsCache = undefined;
    return found;
  }

  /**
   * The collection statistics (chunk count, average length) for BM25, read at most once per STATISTICS_TTL_MS: a
   * search asks for them several times (its own pass, RM3's pass, answerability), and each round trip costs the node
   * more than the database. This instance's own writes refresh them at once; another node's writes reach the scores
   * within the TTL (the documents themselves are read live, so they are found at once).
   */
  private statistics(): Promise<KeywordStatistics> {
    const now = Date.now();
    // An empty knowledge base's statistics are never reused: its first document must be found at the next search.
    if (!this.statisticsCache || now - this.statisticsCache.readAt > STATISTICS_TTL_MS || this.statisticsCache.empty) {
      const reading = this.pool.query<{ chunk_count: string; total_length: string }>(`SELECT chunk_count, total_length FROM ${this.schema}.statistics`).then(({ rows }) => {
        const chunkCount = Number(rows[0]!.chunk_count);
        return { chunkCount, averageChunkLength: chunkCount > 0 ? Number(rows[0]!.total_length) / chunkCount : 0 };
      });
      this.statisticsCache = { readAt: now, value: reading, empty: false };
      const entry = this.statisticsCache;
      reading
        .then((value) => (entry.empty = value.chunkCount === 0))
        .catch(() => {
          if (this.statisticsCache?.value === reading) this.statisticsCache = undefined;
        });
    }
    return this.statisticsCache.value;
  }

  private async documentFrequencies(terms: readonly string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>(terms.map((term) => [term, 0]));
    if (terms.length === 0) return result;
    const { rows } = await this.pool.query<{ term: string; frequency: number }>(`SELECT term, document_frequency AS frequency FROM ${this.schema}.terms WHERE term = ANY($1::text[])`, [
      [...new Set(terms)],
    ]);
    for (const row of rows) result.set(row.term, row.frequency);
    return result;
  }

  private async chunkTerms(chunkIds: readonly number[]): Promise<Map<number, Map<string, number>>> {
    const result = new Map<number, Map<string, number>>(chunkIds.map((id) => [id, new Map()]));
    if (chunkIds.length === 0) return result;
    // A row per chunk with its terms as one JSON object: a row per posting made the client's parsing the cost.
    const { rows } = await this.pool.query<{ chunk_id: number; terms: Record<string, number> }>(
      `SELECT chunk_id, json_object_agg(term, tf) AS terms FROM ${this.schema}.postings WHERE chunk_id = ANY($1::integer[]) GROUP BY chunk_id`,
      [[...chunkIds]],
    );
    for (const row of rows) result.set(row.chunk_id, new Map(Object.entries(row.terms)));
    return result;
  }

  /** BM25 in SQL with the embedded index's formula; IDF over the whole knowledge base, the scope narrowing the candidates. */
  private async keywordSearch(queryTerms: ReadonlyMap<string, number>, scope: SearchScope, limit: number, parameters: Bm25Parameters): Promise<ScoredChunk[]> {
    if (limit <= 0 || queryTerms.size === 0) return [];
    const [{ chunkCount, averageChunkLength }, frequencies] = await Promise.all([this.statistics(), this.documentFrequencies([...queryTerms.keys()])]);
    const terms: string[] = [];
    const weights: number[] = [];
    for (const [term, weight] of queryTerms) {
      const frequency = frequencies.get(term) ?? 0;
      if (frequency === 0) continue;
      terms.push(term);
      weights.push(weight * inverseDocumentFrequency(frequency, chunkCount));
    }
    if (terms.length === 0 || averageChunkLength === 0) return [];
    const where = scopeClause(scope, 7);
    // An unrestricted scope reads the postings' covering index alone; a restricted one joins what it filters on.
    const restricted = where.sql !== 'true';
    const { rows } = await this.pool.query<{ id: number; score: number }>(
      `SELECT p.chunk_id AS id, sum(q.weight * p.tf * ($3::float8 + 1) / (p.tf + $3::float8 * (1 - $4::float8 + $4::float8 * p.chunk_length / $5::float8))) AS score
       FROM unnest($1::text[], $2::float8[]) AS q(term, weight)
       JOIN ${this.schema}.postings p ON p.term = q.term
       ${restricted ? `JOIN ${this.schema}.chunks c ON c.id = p.chunk_id JOIN ${this.schema}.documents d ON d.id = c.document_id WHERE ${where.sql}` : ''}
       GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT $6`,
      [terms, weights, parameters.k1, parameters.b, averageChunkLength, limit, ...where.values],
    );
    return rows.map((row): ScoredChunk => [row.id, Number(row.score)]);
  }

  async refresh(): Promise<void> {
    // Every read goes to the database: another node's writes are already visible.
  }

  async generation(): Promise<number> {
    const { rows } = await this.pool.query<{ generation: string }>(`SELECT generation FROM ${this.schema}.statistics`);
    return Number(rows[0]!.generation);
  }

  /**
   * Durable at each commit; what flush adds is upkeep after a large write: once the chunks grew or shrank by a fifth
   * since the last upkeep, VACUUM (ANALYZE) the postings and term tables, so that the planner knows their new size
   * and BM25's index-only scans find the visibility map set, rather than wait for autovacuum with slower searches.
   */
  async flush(): Promise<void> {
    const { chunkCount } = await this.statistics();
    if (Math.abs(chunkCount - this.chunksAtUpkeep) < Math.max(UPKEEP_MIN_CHUNKS, this.chunksAtUpkeep * UPKEEP_SHARE)) return;
    this.chunksAtUpkeep = chunkCount;
    await this.pool.query(`VACUUM (ANALYZE) ${this.schema}.postings, ${this.schema}.terms, ${this.schema}.chunks, ${this.schema}.documents`);
  }

  async checkConsistency(): Promise<ConsistencyReport> {
    const schema = this.schema;
    const { rows } = await this.pool.query<{ documents: number; chunks: number; wrong: number; orphans: number; without_vector: number; statistics_off: boolean }>(
      `SELECT (SELECT count(*) FROM ${schema}.documents)::integer AS documents,
              (SELECT count(*) FROM ${schema}.chunks)::integer AS chunks,
              (SELECT count(*) FROM ${schema}.documents d WHERE d.chunk_count != (SELECT count(*) FROM ${schema}.chunks c WHERE c.document_id = d.id))::integer AS wrong,
              (SELECT count(*) FROM ${schema}.postings p WHERE NOT EXISTS (SELECT 1 FROM ${schema}.chunks c WHERE c.id = p.chunk_id))::integer AS orphans,
              ${this.vectorMode !== 'none' ? `(SELECT count(*) FROM ${schema}.chunks WHERE embedding IS NULL)::integer` : '0'} AS without_vector,
              (SELECT st.chunk_count != (SELECT count(*) FROM ${schema}.chunks) OR st.total_length != (SELECT coalesce(sum(term_count), 0) FROM ${schema}.chunks) FROM ${schema}.statistics st)
                OR EXISTS (SELECT 1 FROM (SELECT term, count(*)::integer AS frequency FROM ${schema}.postings GROUP BY term) counted FULL JOIN ${schema}.terms t USING (term)
                           WHERE counted.frequency IS DISTINCT FROM t.document_frequency) AS statistics_off`,
    );
    const row = rows[0]!;
    // Statistics or document frequencies that disagree with the chunks would skew every BM25 score: reported like a
    // wrong chunk count.
    return {
      documents: row.documents,
      chunks: row.chunks,
      chunksWithoutVector: row.without_vector,
      vectorsWithoutChunk: 0,
      documentsWithWrongChunkCount: row.wrong + (row.statistics_off ? 1 : 0),
      orphanPostings: row.orphans,
    };
  }

  async describe(): Promise<StorageStatus> {
    const { rows } = await this.pool.query<{ version: number }>(`SELECT max(version) AS version FROM ${this.schema}.schema_migrations`);
    return { backend: 'postgresql', schema: this.schema, schemaVersion: rows[0]!.version };
  }

  async close(): Promise<void> {
    // The pool belongs to the deployment (shared by its knowledge bases): closed by whoever made it.
  }
}

/** A collection's schema: `kb_` and its name ("-" as "_"), with a hash when that would pass PostgreSQL's 63 bytes. */
export function schemaOf(collection: string): string {
  const name = `kb_${collection.replace(/-/g, '_')}`;
  return name.length <= 40 ? name : `${name.slice(0, 31)}_${createHash('sha256').update(collection).digest('hex').slice(0, 8)}`;
}

/** Drops a deleted collection's schema (its documents, chunks, postings and vectors). */
export async function dropCollectionSchema(url: string, collection: string): Promise<void> {
  await poolFor(url).query(`DROP SCHEMA IF EXISTS ${schemaOf(collection)} CASCADE`);
}
