// The local Store: SQLite (better-sqlite3) holds documents, chunks and every chunk's vector; an hnswlib index file is a
// derived copy of the vectors for fast nearest-neighbour search, and keywords.bin one of the keyword index.
//
// Crash safety comes from that split. Each document is one SQLite transaction (chunks and vectors together), so the
// database never holds a chunk without its vector or the reverse. The HNSW file records the database
// generation it was saved at; if an ingest died before saving it, the generations differ on the next open and the
// index is rebuilt from the vectors in the database. A server process picks up another process's writes by
// diffing chunk ids against its in-memory index (refresh).
//
// The keyword index works the same way (store/keyword-index.ts): typed arrays in memory, kept current on every write,
// saved to keywords.bin with the generation it matches, loaded at open. Its record is the chunk text itself: a chunk's
// terms are a function of its title, headings and text and of the tokenizer the manifest records, so a missing or
// stale file is rebuilt by tokenizing the chunks again. (Format 2 kept every posting in a SQLite table as well: 33×
// write amplification at ingest, and most of the 12.8 KB per chunk the index took.)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KbError, describeError, storageError } from '../errors.ts';
import type { Language } from '../text/language.ts';
import { currentCjkTokenizer, indexTerms } from '../text/tokenize.ts';
import type { Bm25Parameters } from '../retrieve/bm25.ts';
import { MemoryKeywordIndex } from './keyword-index.ts';
import { VECTOR_FILE, VECTOR_STATE_FILE, HnswVectorIndex, type HnswParameters } from './vector-index.ts';
import type {
  ChunkFilters,
  ChunkInput,
  ChunkRecord,
  DocumentInput,
  DocumentQuery,
  DocumentRecord,
  ConsistencyReport,
  KeywordStatistics,
  ScoredChunk,
  SearchScope,
  StoreEmbedder,
  VectorMode,
} from './types.ts';
import { ChunkBitset, type ChunkPredicate } from './chunk-bitset.ts';
import { documentKeyOf, toChunkRecord, toStoredChunk, type StoredChunkColumns } from './records.ts';
import { EMPTY_VECTOR, blobToVector, createSchema, indexedTextOf, prepareStatements, toDocumentRecord, vectorToBlob, writeFileAtomic, type ChunkTextRow, type DocumentRow } from './local-schema.ts';

/** Version of the on-disk layout (manifest, tables, vector file). Bump on any incompatible change. */
export const STORE_FORMAT_VERSION = 3;
/**
 * Migrated in place: version 1 lacked document metadata and groups (two added columns); versions 1 and 2 kept a
 * postings table, dropped (the keyword index is rebuilt from the chunks at the first open).
 */
const MIGRATABLE_FORMAT_VERSIONS = [1, 2];

export interface HnswSettings extends HnswParameters {
  /** Quota on the database size (KB_MAX_INDEX_MB); a write beyond it fails with KB_ERR_STORAGE_FULL. */
  maxDatabaseMegabytes?: number;
  /** What is kept of chunk vectors (default "indexed"); see VectorMode. */
  vectors?: VectorMode;
  /**
   * A reader beside the process that writes (a query thread): it opens an existing index, follows its writes through
   * refresh(), and never writes a file (the manifest, keywords.bin, the vector file are the writer's).
   */
  readOnly?: boolean;
}

interface Manifest {
  formatVersion: number;
  embedderId: string;
  dimensions: number;
  /** The Chinese tokenizer of the keyword index (KB_CJK_TOKENIZER); absent in indexes made before it was recorded. */
  cjkTokenizer?: string;
  createdAt: string;
}

const MANIFEST = 'manifest.json';
const DATABASE = 'kb.sqlite';
const KEYWORDS = 'keywords.bin';

/** Resolved scopes kept per index generation (1..1000): a key's reader groups recur on every one of its requests. */
const SCOPE_CACHE_ENTRIES = 64;

/**
 * The embedded backend's engine, synchronous (better-sqlite3 and in-memory indexes): store/local-storage.ts puts the
 * asynchronous Storage seams in front of it.
 */
export class LocalStore {
  readonly embedderId: string;
  readonly dimensions: number;
  private readonly database: Database.Database;
  /** The HNSW graph, when vectors are searched (VectorMode "indexed"). */
  private vectors: HnswVectorIndex | undefined;
  private loadedGeneration = 0;
  private chunkIdsOfGeneration: { generation: number; ids: number[] } | undefined;
  private keywords!: MemoryKeywordIndex;
  readonly vectorMode: VectorMode;
  /** The generation the keyword index reflects (it follows every write of this process, and refresh()). */
  private keywordGeneration = -1;
  private readonly statements;
  private scopes = { generation: -1, bitsets: new Map<string, ChunkBitset>() };

  private constructor(
    private readonly dataDir: string,
    manifest: Manifest,
    private readonly hnsw: HnswSettings,
    private readonly embedder: StoreEmbedder,
  ) {
    this.vectorMode = hnsw.vectors ?? 'indexed';
    if (this.vectorMode === 'none' && !embedder.embedDocumentNow) throw new Error(`the embedder ${embedder.id} cannot compute vectors again: it needs vectors "stored" or "indexed"`);
    this.embedderId = manifest.embedderId;
    this.dimensions = manifest.dimensions;
    try {
      this.database = new Database(path.join(dataDir, DATABASE));
      this.database.pragma('journal_mode = WAL');
      this.database.pragma('synchronous = NORMAL');
      this.database.pragma('foreign_keys = ON');
      this.database.pragma('busy_timeout = 5000');
      createSchema(this.database);
      if (hnsw.maxDatabaseMegabytes) {
        const pageSize = Number(this.database.pragma('page_size', { simple: true }));
        this.database.pragma(`max_page_count = ${Math.floor((hnsw.maxDatabaseMegabytes * 1024 * 1024) / pageSize)}`);
      }
    } catch (error) {
      throw storageError(error, dataDir) ?? new KbError('KB_ERR_INDEX_CORRUPT', { dataDir, details: describeError(error) }, { cause: error });
    }
    this.statements = prepareStatements(this.database);
  }

  /**
   * Opens the index in dataDir, creating it for this embedder when the folder holds none. An index made by another
   * embedder or another format version is refused with a message that says how to rebuild.
   */
  static open(dataDir: string, embedder: StoreEmbedder, hnsw: HnswSettings): LocalStore {
    const manifestFile = path.join(dataDir, MANIFEST);
    let manifest: Manifest;
    let migrateManifest: (() => void) | undefined;
    if (existsSync(manifestFile)) {
      try {
        manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      } catch (error) {
        throw new KbError('KB_ERR_INDEX_CORRUPT', { dataDir, details: `${MANIFEST} is not valid JSON` }, { cause: error });
      }
      if (MIGRATABLE_FORMAT_VERSIONS.includes(manifest.formatVersion)) {
        manifest = { ...manifest, formatVersion: STORE_FORMAT_VERSION };
        migrateManifest = () => writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
      } else if (manifest.formatVersion !== STORE_FORMAT_VERSION) {
        throw new KbError('KB_ERR_INDEX_VERSION', { dataDir, found: manifest.formatVersion, expected: STORE_FORMAT_VERSION });
      }
      if (manifest.embedderId !== embedder.id || manifest.dimensions !== embedder.dimensions) {
        throw new KbError('KB_ERR_INDEX_MISMATCH', { dataDir, found: `${manifest.embedderId}`, expected: `${embedder.id}` });
      }
      const tokenizer = currentCjkTokenizer();
      if (manifest.cjkTokenizer !== undefined && manifest.cjkTokenizer !== tokenizer) {
        throw new KbError('KB_ERR_INDEX_TOKENIZER', { dataDir, found: manifest.cjkTokenizer, expected: tokenizer });
      }
      if (manifest.cjkTokenizer === undefined) {
        // An index from before the tokenizer was recorded: assume the current one, and record it from now on.
        manifest = { ...manifest, cjkTokenizer: tokenizer };
        migrateManifest = () => writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
      }
    } else {
      // A reader never creates an index: the writing process does, and the reader opens it after.
      if (hnsw.readOnly) throw new KbError('KB_ERR_NOT_READY', { details: `no index in ${dataDir} yet` });
      if (existsSync(path.join(dataDir, DATABASE))) {
        throw new KbError('KB_ERR_INDEX_CORRUPT', { dataDir, details: `${MANIFEST} is missing` });
      }
      mkdirSync(dataDir, { recursive: true });
      manifest = { formatVersion: STORE_FORMAT_VERSION, embedderId: embedder.id, dimensions: embedder.dimensions, cjkTokenizer: currentCjkTokenizer(), createdAt: new Date().toISOString() };
      writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
    }
    if (hnsw.readOnly && migrateManifest) throw new KbError('KB_ERR_INDEX_VERSION', { dataDir, found: manifest.formatVersion, expected: STORE_FORMAT_VERSION });
    const store = new LocalStore(dataDir, manifest, hnsw, embedder);
    migrateManifest?.();
    if (store.vectorMode === 'indexed') store.loadVectors();
    else store.loadedGeneration = store.currentGeneration();
    store.loadKeywords();
    return store;
  }

  private currentGeneration(): number {
    return Number(this.statements.generation.get()?.value ?? 0);
  }

  // ---- vectors ---------------------------------------------------------------------------------------------------

  private loadVectors(): void {
    const generation = this.currentGeneration();
    this.vectors = new HnswVectorIndex(this.dataDir, this.dimensions, this.hnsw);
    if (this.vectors.load(generation, STORE_FORMAT_VERSION, this.chunkIds())) this.loadedGeneration = generation;
    else this.rebuildVectors();
  }

  /**
   * Rebuilds the vector index from the vectors stored with the chunks (after a crash, or a lost file); vectors an
   * index kept without ("none") are computed again.
   */
  rebuildVectors(): void {
    const generation = this.currentGeneration();
    const rows = this.statements.allVectors.all();
    const computed = this.computeVectors(rows.filter((row) => row.vector.length === 0).map((row) => row.id));
    const vectors = new Map(rows.map((row): [number, Float32Array] => [row.id, row.vector.length > 0 ? blobToVector(row.vector) : computed.get(row.id)!]));
    this.vectors ??= new HnswVectorIndex(this.dataDir, this.dimensions, this.hnsw);
    this.vectors.rebuild(vectors);
    this.loadedGeneration = generation;
    if (rows.length > 0 || this.vectors.hasFile()) this.flush();
  }

  /** Vectors of chunks stored without one, computed from their text by an embedder that can (else an error that says how to reindex). */
  private computeVectors(ids: readonly number[]): Map<number, Float32Array> {
    const result = new Map<number, Float32Array>();
    if (ids.length === 0) return result;
    const embed = this.embedder.embedDocumentNow?.bind(this.embedder);
    if (!embed) throw new KbError('KB_ERR_INDEX_MISMATCH', { dataDir: this.dataDir, found: 'an index kept without vectors', expected: `vectors of ${this.embedder.id}` });
    for (const [id, text] of this.indexedTexts(ids)) result.set(id, embed(text));
    return result;
  }

  /** The indexed text of each of these chunks (terms and vectors are computed again from it), read 500 at a time. */
  private *indexedTexts(ids: readonly number[]): Generator<[number, string]> {
    for (let start = 0; start < ids.length; start += 500) {
      const part = ids.slice(start, start + 500);
      const rows = this.database
        .prepare<number[], ChunkTextRow>(`SELECT c.id, c.text, c.headings, d.title FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN (${part.map(() => '?').join(',')})`)
        .all(...part);
      for (const row of rows) yield [row.id, indexedTextOf(row)];
    }
  }

  private addVector(id: number, vector: Float32Array): void {
    this.vectors?.add(id, vector);
  }

  private removeVector(id: number): void {
    this.vectors?.remove(id);
  }

  refresh(): void {
    const generation = this.currentGeneration();
    if (generation === this.loadedGeneration) return;
    const ids = new Set(this.chunkIds());
    if (this.vectors) {
      for (const id of this.vectors.ids()) if (!ids.has(id)) this.removeVector(id);
      const missing: number[] = [];
      for (const id of ids) {
        if (this.vectors.has(id)) continue;
        const row = this.statements.vectorOf.get(id);
        if (row && row.vector.length > 0) this.addVector(id, blobToVector(row.vector));
        else if (row) missing.push(id);
      }
      for (const [id, vector] of this.computeVectors(missing)) this.addVector(id, vector);
    }
    this.loadedGeneration = generation;
    this.refreshKeywords(generation, ids);
  }

  // ---- keywords --------------------------------------------------------------------------------------------------

  /**
   * The saved keyword index, brought up to the database: a file saved at another generation (an ingest that stopped
   * between two saves) is caught up with the chunks added and removed since; no usable file means a rebuild.
   */
  private loadKeywords(): void {
    const generation = this.currentGeneration();
    const loaded = MemoryKeywordIndex.load(path.join(this.dataDir, KEYWORDS));
    if (!loaded || loaded.header.tokenizer !== currentCjkTokenizer()) {
      this.rebuildKeywords();
      return;
    }
    this.keywords = loaded.index;
    this.keywordGeneration = loaded.header.generation;
    if (loaded.header.generation !== generation) {
      this.catchUpKeywords(new Set(this.chunkIds()));
      this.keywordGeneration = generation;
      this.saveKeywords();
    }
  }

  /**
   * Rebuilds the keyword index by tokenizing every chunk again (a lost or damaged file, another tokenizer, or a
   * migration from format 2): about 3 s per 10k chunks.
   */
  rebuildKeywords(): void {
    const generation = this.currentGeneration();
    const index = MemoryKeywordIndex.fromSorted([], []);
    let count = 0;
    for (const row of this.statements.allChunkTexts.iterate()) {
      index.add(row.id, indexTerms(indexedTextOf(row)));
      count++;
    }
    index.compact();
    this.keywords = index;
    this.keywordGeneration = generation;
    if (count > 0) this.saveKeywords();
  }

  /** Chunks removed from the database leave the keyword index; chunks added to it are tokenized and enter it. */
  private catchUpKeywords(ids: ReadonlySet<number>): void {
    for (const id of this.keywords.chunkIds()) if (!ids.has(id)) this.keywords.remove(id);
    const added = [...ids].filter((id) => !this.keywords.has(id)).sort((left, right) => left - right);
    for (const [id, text] of this.indexedTexts(added)) this.keywords.add(id, indexTerms(text));
  }

  /** Another process wrote: its saved file when it matches, else the chunks added and removed since. */
  private refreshKeywords(generation: number, ids: ReadonlySet<number>): void {
    if (generation === this.keywordGeneration) return;
    const loaded = MemoryKeywordIndex.load(path.join(this.dataDir, KEYWORDS));
    if (loaded && loaded.header.generation === generation && loaded.header.tokenizer === currentCjkTokenizer()) this.keywords = loaded.index;
    else this.catchUpKeywords(ids);
    this.keywordGeneration = generation;
  }

  private saveKeywords(): void {
    if (this.hnsw.readOnly) return;
    try {
      this.keywords.save(path.join(this.dataDir, KEYWORDS), { generation: this.keywordGeneration, tokenizer: currentCjkTokenizer() });
    } catch (error) {
      // Like the vector file, a copy of the database: a failed save costs a rebuild at the next open.
      throw storageError(error, this.dataDir) ?? error;
    }
  }

  /** The top chunks by BM25 for weighted query terms, among the allowed chunks when given. */
  keywordSearch(queryTerms: ReadonlyMap<string, number>, parameters: Bm25Parameters, limit: number, allowed?: ChunkPredicate): ScoredChunk[] {
    return this.keywords.search(queryTerms, parameters, limit, allowed);
  }

  /** Saves the vector index, and the keyword index when `complete` (the end of an ingest, not a flush in its middle). */
  flush(options: { complete?: boolean } = {}): void {
    const complete = options.complete ?? true;
    // Saved once, at the end of an ingest: an ingest that stops before costs the next open only the tokenizing of the
    // chunks written since the last save (catchUpKeywords), while saving every 100 documents took a fifth of it.
    if (complete && this.keywordGeneration === this.loadedGeneration && this.keywords.pendingChanges() > 0) this.saveKeywords();
    if (!this.vectors || this.hnsw.readOnly) return;
    try {
      this.vectors.save(this.loadedGeneration, STORE_FORMAT_VERSION);
    } catch (error) {
      // The vector file is a copy of the database: a failed save costs a rebuild at the next open, nothing else.
      throw storageError(error, this.dataDir) ?? error;
    }
  }

  // ---- documents -------------------------------------------------------------------------------------------------

  upsertDocument(document: DocumentInput, chunks: ChunkInput[]): DocumentRecord {
    for (const chunk of chunks) {
      if (chunk.vector.length !== this.dimensions && !(this.vectorMode === 'none' && chunk.vector.length === 0)) {
        throw new KbError('KB_ERR_EMBEDDER', { details: `a vector has ${chunk.vector.length} dimensions, the index ${this.dimensions}` });
      }
    }
    this.refresh();
    const previous = this.statements.documentBySource.get(document.source);
    const previousChunkIds = previous ? this.statements.chunkIdsOfDocument.all(previous.id).map((row) => row.id) : [];
    const insertedIds: number[] = [];
    const write = this.database.transaction(() => {
      if (previous) this.statements.deleteDocument.run(previous.id);
      const documentId = Number(
        this.statements.insertDocument.run({
          source: document.source,
          documentKey: documentKeyOf(document.source),
          title: document.title,
          language: document.language,
          format: document.format,
          contentHash: document.contentHash,
          pageCount: document.pageCount ?? null,
          url: document.url ?? null,
          chunkCount: chunks.length,
          updatedAt: new Date().toISOString(),
          metadata: document.metadata ? JSON.stringify(document.metadata) : null,
          groups: document.groups && document.groups.length > 0 ? JSON.stringify(document.groups) : null,
        }).lastInsertRowid,
      );
      for (const chunk of chunks) {
        let termCount = 0;
        for (const frequency of chunk.terms.values()) termCount += frequency;
        const chunkId = Number(
          this.statements.insertChunk.run({
            documentId,
            ordinal: chunk.ordinal,
            text: chunk.text,
            headings: JSON.stringify(chunk.headings),
            page: chunk.page ?? null,
            startOffset: chunk.startOffset,
            endOffset: chunk.endOffset,
            language: chunk.language,
            tokenCount: chunk.tokenCount,
            termCount,
            contentHash: chunk.contentHash,
            vector: this.vectorMode === 'none' ? EMPTY_VECTOR : vectorToBlob(chunk.vector),
            ocr: chunk.ocr ? 1 : null,
          }).lastInsertRowid,
        );
        insertedIds.push(chunkId);
      }
      this.statements.bumpGeneration.run();
      return documentId;
    });
    let documentId: number;
    try {
      documentId = write();
    } catch (error) {
      // The transaction rolled back: the document is as it was before (or absent), never half-written.
      throw storageError(error, this.dataDir) ?? error;
    }
    for (const id of previousChunkIds) this.removeVector(id);
    chunks.forEach((chunk, position) => this.addVector(insertedIds[position]!, chunk.vector));
    for (const id of previousChunkIds) this.keywords.remove(id);
    chunks.forEach((chunk, position) => this.keywords.add(insertedIds[position]!, chunk.terms));
    this.loadedGeneration = this.currentGeneration();
    this.keywordGeneration = this.loadedGeneration;
    return toDocumentRecord(this.statements.documentById.get(documentId)!);
  }

  deleteDocument(source: string): boolean {
    this.refresh();
    const previous = this.statements.documentBySource.get(source);
    if (!previous) return false;
    const chunkIds = this.statements.chunkIdsOfDocument.all(previous.id).map((row) => row.id);
    this.database.transaction(() => {
      this.statements.deleteDocument.run(previous.id);
      this.statements.bumpGeneration.run();
    })();
    for (const id of chunkIds) this.removeVector(id);
    for (const id of chunkIds) this.keywords.remove(id);
    this.loadedGeneration = this.currentGeneration();
    this.keywordGeneration = this.loadedGeneration;
    return true;
  }

  getDocumentBySource(source: string): DocumentRecord | undefined {
    const row = this.statements.documentBySource.get(source);
    return row ? toDocumentRecord(row) : undefined;
  }

  /** Documents with this content hash (the same bytes, metadata and pipeline), oldest first. */
  getDocumentsByContentHash(hash: string): DocumentRecord[] {
    return this.statements.documentsByContent.all(hash).map(toDocumentRecord);
  }

  getDocumentByKey(key: string): DocumentRecord | undefined {
    const row = this.statements.documentByKey.get(key);
    return row ? toDocumentRecord(row) : undefined;
  }

  documentCount(): number {
    return this.statements.documentCount.get()?.count ?? 0;
  }

  listDocuments(page?: { offset: number; limit: number }): DocumentRecord[] {
    return (page ? this.statements.documentPage.all(page.limit, page.offset) : this.statements.allDocuments.all()).map(toDocumentRecord);
  }

  findDocuments(query: DocumentQuery, page: { offset: number; limit: number }): { documents: DocumentRecord[]; total: number } {
    const clauses: string[] = [];
    const values: (string | number)[] = [];
    if (query.text) {
      const pattern = `%${query.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      clauses.push(`(title LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\')`);
      values.push(pattern, pattern);
    }
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      clauses.push(`${column} = ?`);
      values.push(value);
    };
    equal('format', query.format);
    equal('language', query.language);
    equal(`json_extract(metadata, '$.department')`, query.department);
    if (query.tag) {
      clauses.push(`EXISTS (SELECT 1 FROM json_each(documents.metadata, '$.tags') WHERE value = ?)`);
      values.push(query.tag);
    }
    if (query.group) {
      clauses.push(`EXISTS (SELECT 1 FROM json_each(documents.groups) WHERE value = ?)`);
      values.push(query.group);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const total = this.database.prepare<(string | number)[], { count: number }>(`SELECT COUNT(*) AS count FROM documents ${where}`).get(...values)?.count ?? 0;
    const rows = this.database.prepare<(string | number)[], DocumentRow>(`SELECT * FROM documents ${where} ORDER BY source LIMIT ? OFFSET ?`).all(...values, page.limit, page.offset);
    return { documents: rows.map(toDocumentRecord), total };
  }

  // ---- search ----------------------------------------------------------------------------------------------------

  documentFrequencies(terms: readonly string[]): Map<string, number> {
    const result = new Map<string, number>();
    for (const term of new Set(terms)) result.set(term, this.keywords.documentFrequency(term));
    return result;
  }

  /** The index generation this instance has loaded (it changes with every write). */
  generation(): number {
    return this.loadedGeneration;
  }

  /**
   * Every chunk id, read once per index generation: after a write, refresh() and loading the vectors need the list
   * (read-only to callers).
   */
  chunkIds(): readonly number[] {
    const generation = this.currentGeneration();
    if (this.chunkIdsOfGeneration?.generation !== generation) this.chunkIdsOfGeneration = { generation, ids: this.statements.allChunkIds.all().map((row) => row.id) };
    return this.chunkIdsOfGeneration.ids;
  }

  chunkTerms(chunkIds: readonly number[]): Map<number, Map<string, number>> {
    return this.keywords.chunkTerms(chunkIds);
  }

  keywordStatistics(): KeywordStatistics {
    return this.keywords.statistics();
  }

  denseSearch(vector: Float32Array, limit: number, allowed?: ChunkPredicate): ScoredChunk[] {
    return this.vectors?.search(vector, limit, allowed) ?? [];
  }

  /**
   * The chunks a scope allows, as a bitset made once per index generation and scope (undefined: every chunk). A
   * search checks it per posting; a key's requests share one.
   */
  chunkScope(scope: SearchScope): ChunkPredicate | undefined {
    const filters = scope.filters ?? {};
    const readerGroups = scope.read.readerGroups === 'all' ? undefined : [...scope.read.readerGroups].sort();
    const unrestricted = !readerGroups && !filters.documentKeys?.length && !filters.sourcePrefix && !filters.language && !filters.tags?.length && !filters.department;
    if (unrestricted) return undefined;
    if (this.scopes.generation !== this.loadedGeneration) this.scopes = { generation: this.loadedGeneration, bitsets: new Map() };
    const key = JSON.stringify([readerGroups, filters.documentKeys, filters.sourcePrefix, filters.language, filters.tags, filters.department]);
    const cached = this.scopes.bitsets.get(key);
    if (cached) return cached;
    const ids = this.chunksMatching(filters, readerGroups);
    const bitset = new ChunkBitset(ids, ids.at(-1) ?? 0); // ordered by id: the last is the largest
    if (this.scopes.bitsets.size >= SCOPE_CACHE_ENTRIES) this.scopes.bitsets.delete(this.scopes.bitsets.keys().next().value!);
    this.scopes.bitsets.set(key, bitset);
    return bitset;
  }

  private chunksMatching(filters: ChunkFilters, readerGroups: readonly string[] | undefined): number[] {
    const clauses: string[] = [];
    const values: (string | number)[] = [];
    if (filters.documentKeys && filters.documentKeys.length > 0) {
      clauses.push(`d.document_key IN (${filters.documentKeys.map(() => '?').join(',')})`);
      values.push(...filters.documentKeys);
    }
    if (filters.sourcePrefix) {
      clauses.push(`substr(d.source, 1, ?) = ?`);
      values.push(filters.sourcePrefix.length, filters.sourcePrefix);
    }
    if (filters.language) {
      clauses.push(`c.language = ?`);
      values.push(filters.language);
    }
    if (filters.tags && filters.tags.length > 0) {
      clauses.push(`EXISTS (SELECT 1 FROM json_each(d.metadata, '$.tags') WHERE value IN (${filters.tags.map(() => '?').join(',')}))`);
      values.push(...filters.tags);
    }
    if (filters.department) {
      clauses.push(`json_extract(d.metadata, '$.department') = ?`);
      values.push(filters.department);
    }
    if (readerGroups) {
      const groups = readerGroups;
      clauses.push(groups.length > 0 ? `(d.groups IS NULL OR EXISTS (SELECT 1 FROM json_each(d.groups) WHERE value IN (${groups.map(() => '?').join(',')})))` : `d.groups IS NULL`);
      values.push(...groups);
    }
    const rows = this.database
      .prepare<(string | number)[], { id: number }>(`SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE ${clauses.join(' AND ')} ORDER BY c.id`)
      .all(...values);
    return rows.map((row) => row.id);
  }

  getChunks(ids: readonly number[]): Map<number, ChunkRecord> {
    const result = new Map<number, ChunkRecord>();
    if (ids.length === 0) return result;
    const rows = this.database
      .prepare<
        number[],
        {
          id: number;
          document_key: string;
          ordinal: number;
          text: string;
          headings: string;
          page: number | null;
          language: Language;
          title: string;
          source: string;
          url: string | null;
          ocr: number | null;
        }
      >(
        `SELECT c.id, d.document_key, c.ordinal, c.text, c.headings, c.page, c.language, d.title, d.source, d.url, c.ocr
         FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN (${ids.map(() => '?').join(',')})`,
      )
      .all(...ids);
    for (const row of rows) result.set(row.id, toChunkRecord({ ...row, headings: JSON.parse(row.headings) as string[] }));
    return result;
  }

  /**
   * Checks the invariants a crash must not break, against the real vector index: every chunk in the database has its
   * own vector there, the index returns no label without a chunk, every document has the chunks it
   * declares, and no posting points to a missing chunk.
   */
  checkConsistency(): ConsistencyReport {
    const rows = this.statements.allVectors.all();
    const ids = new Set(rows.map((row) => row.id));
    const vectors = this.vectors;
    if (!vectors) {
      // Nothing is indexed; a chunk lacks its vector only where vectors are kept.
      const chunksWithoutVector = this.vectorMode === 'stored' ? rows.filter((row) => row.vector.length === 0).length : 0;
      return { ...this.consistencyOfRows(ids), chunksWithoutVector, vectorsWithoutChunk: 0 };
    }
    let chunksWithoutVector = 0;
    for (const row of rows) {
      const point = vectors.point(row.id);
      // A vector stored with the chunk must be the one indexed (cosine space keeps unit vectors; ours are); a chunk
      // kept without one ("none") needs only to be indexed.
      const stored = row.vector.length > 0 ? blobToVector(row.vector) : undefined;
      if (!point || (stored && point.some((value, index) => Math.abs(value - stored[index]!) > 1e-4))) chunksWithoutVector++;
    }
    const vectorsWithoutChunk = vectors.labels().filter((label) => !ids.has(label)).length;
    return { ...this.consistencyOfRows(ids), chunksWithoutVector, vectorsWithoutChunk };
  }

  private consistencyOfRows(ids: ReadonlySet<number>): { documents: number; chunks: number; documentsWithWrongChunkCount: number; orphanPostings: number } {
    const documentsWithWrongChunkCount = this.database
      .prepare<[], { count: number }>(`SELECT COUNT(*) AS count FROM documents d WHERE d.chunk_count != (SELECT COUNT(*) FROM chunks c WHERE c.document_id = d.id)`)
      .get()!.count;
    // Keyword entries without a chunk, and chunks missing from the keyword index.
    const keywordIds = new Set(this.keywords.chunkIds());
    const orphanPostings = [...keywordIds].filter((id) => !ids.has(id)).length + [...ids].filter((id) => !keywordIds.has(id)).length;
    const documents = this.documentCount();
    return { documents, chunks: ids.size, documentsWithWrongChunkCount, orphanPostings };
  }

  close(): void {
    // Saved so that the next start loads the keyword file instead of rebuilding it; a failure here (a read-only
    // folder) only costs that rebuild.
    if (this.keywordGeneration === this.loadedGeneration && this.keywords.pendingChanges() > 0) {
      try {
        this.saveKeywords();
      } catch {
        // The database holds everything; the file is a copy.
      }
    }
    this.database.close();
  }

  /** A document's chunks as they were written (text, position, terms), without vectors: for re-embedding. */
  documentChunks(source: string): Omit<ChunkInput, 'vector'>[] {
    const document = this.statements.documentBySource.get(source);
    if (!document) return [];
    const rows = this.database
      // The columns toStoredChunk reads, the heading path still as its JSON text.
      .prepare<[number], Omit<StoredChunkColumns, 'headings'> & { headings: string }>(
        `SELECT id, ordinal, text, headings, page, start_offset, end_offset, language, token_count, content_hash, ocr FROM chunks WHERE document_id = ? ORDER BY ordinal`,
      )
      .all(document.id);
    const terms = this.chunkTerms(rows.map((row) => row.id));
    return rows.map((row) => toStoredChunk({ ...row, headings: JSON.parse(row.headings) as string[] }, terms.get(row.id)));
  }

  /** The files that make an index, in its folder. */
  static readonly files = [MANIFEST, DATABASE, `${DATABASE}-wal`, `${DATABASE}-shm`, VECTOR_FILE, VECTOR_STATE_FILE, KEYWORDS];

  /** Removes an index folder's files (used by tests and by `kb reset`). */
  static destroy(dataDir: string): void {
    for (const file of LocalStore.files) rmSync(path.join(dataDir, file), { force: true });
  }
}
