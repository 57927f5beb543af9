// Ingestion: files → hash → parse → chunk → embed → store, one document at a time, each written all or nothing.
// Incremental by content hash: an unchanged file costs one read and one hash; a changed one is replaced; a file gone
// from a folder that was ingested is removed with its vectors. A failing file is reported and never stops the rest.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Embedder } from '../embed/types.ts';
import { documentVectors } from '../embed/index.ts';
import { KbError, describeError, isKbError } from '../errors.ts';
import type { ChunkInput, DocumentInput, Storage } from '../store/types.ts';
import { detectLanguage } from '../text/language.ts';
import { indexTerms } from '../text/tokenize.ts';
import { chunkSections, indexableText, type ChunkingOptions } from './chunker.ts';
import { isSupportedPath } from './parsers/index.ts';
import { PreparePool } from './prepare-pool.ts';
import type { PreparedDocument, PrepareProgress } from './prepare.ts';
import type { OcrOptions } from './ocr/ocr.ts';

/** Bump when parsing or chunking changes output, so that unchanged files are re-ingested once. */
export const PIPELINE_VERSION = 2;
/** Largest file accepted for ingestion; larger ones are reported, not read. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;
/** The vector index is saved after this many written documents (and at the end), bounding the rebuild after a crash. */
const FLUSH_EVERY_DOCUMENTS = 100;
/** Files read and sent to the parser workers ahead of the one being written, per worker (1..8): keeps them busy. */
const PREPARE_AHEAD_PER_THREAD = 3;

export interface IngestFailure {
  path: string;
  reason: string;
}

export interface IngestSummary {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: IngestFailure[];
  skipped: string[];
  /** Files whose content is already indexed under another name: not indexed again. */
  duplicates: { path: string; duplicateOf: string }[];
  /** Files indexed without all of their content (pages past OCR's limits), with what was left out. */
  warnings: { path: string; message: string }[];
  chunks: number;
  pages: number;
  seconds: number;
}

export interface IngestProgress {
  done: number;
  total: number;
  file: string;
  /** While `file` is being read by OCR: its pages read so far, of the pages to read. */
  ocrPages?: number;
  ocrPagesTotal?: number;
}

export interface IngestOptions {
  storage: Storage;
  embedder: Embedder;
  chunking: ChunkingOptions;
  onProgress?: (progress: IngestProgress) => void;
  /** Base for the stored source paths (default: the working directory). */
  baseDir?: string;
  /** Re-ingest even files whose content hash is unchanged (a reindex). */
  force?: boolean;
  /** Metadata, reader groups and URL given to every document of this ingest (uploads carry them). */
  documentDefaults?: DocumentOverrides;
  /** Per-file title, URL, metadata and groups (the CLI's --url-base and --metadata), over the defaults. */
  documentOverrides?: (file: string) => DocumentOverrides | undefined;
  /** Worker threads that parse, chunk and tokenize (KB_INGEST_THREADS); 0: in the calling thread. */
  threads?: number;
  /** OCR's limits for scanned pages and images (KB_OCR_MAX_PAGES, KB_OCR_FILE_SECONDS). */
  ocr?: OcrOptions;
}

export type DocumentOverrides = Pick<DocumentInput, 'metadata' | 'groups' | 'url'> & { title?: string };

/** The stored identity of a file: its path relative to the base, with forward slashes. */
export function sourceOf(file: string, baseDir: string): string {
  const relative = path.relative(baseDir, path.resolve(file));
  const chosen = relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative;
  return chosen.split(path.sep).join('/');
}

interface Walked {
  files: string[];
  skipped: string[];
  missing: string[];
}

function walk(roots: readonly string[]): Walked {
  const result: Walked = { files: [], skipped: [], missing: [] };
  const visit = (entry: string, explicit: boolean) => {
    let stats;
    try {
      stats = statSync(entry);
    } catch {
      if (explicit) result.missing.push(entry);
      return;
    }
    if (stats.isDirectory()) {
      for (const name of readdirSync(entry).sort()) {
        if (name.startsWith('.')) continue;
        visit(path.join(entry, name), false);
      }
    } else if (stats.isFile()) {
      if (explicit || isSupportedPath(entry)) result.files.push(entry);
      else result.skipped.push(entry);
    }
  };
  for (const root of roots) visit(root, true);
  return result;
}

function fingerprint(bytes: Buffer, chunking: ChunkingOptions): string {
  return createHash('sha256').update(bytes).update(`|pipeline=${PIPELINE_VERSION}|chunk=${chunking.maxTokens}/${chunking.overlapTokens}`).digest('hex');
}

/** A file read and hashed, its parse started (in a worker when there are any), not yet checked against the index. */
type Started = { kind: 'unchanged' } | { kind: 'started'; hash: string; given: DocumentOverrides; replaces: boolean; prepared: Promise<PreparedDocument> };

async function startDocument(file: string, source: string, options: IngestOptions, pool: PreparePool, onProgress: PrepareProgress): Promise<Started> {
  const store = options.storage.documents;
  const size = statSync(file).size;
  if (size > MAX_FILE_BYTES) throw new KbError('KB_ERR_PARSE', { file: source, reason: `the file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit` });
  const bytes = readFileSync(file);
  // Metadata is part of the fingerprint: the same file uploaded with other tags or groups is written again.
  const given: DocumentOverrides = { ...options.documentDefaults, ...options.documentOverrides?.(file) };
  const hash = fingerprint(Buffer.concat([bytes, Buffer.from(JSON.stringify(given))]), options.chunking);
  const existing = await store.getDocumentBySource(source);
  if (existing && existing.contentHash === hash && !options.force) return { kind: 'unchanged' };
  const prepared = pool.prepare({ source, bytes, chunking: options.chunking, ...(given.title !== undefined ? { title: given.title } : {}), ...(options.ocr ? { ocr: options.ocr } : {}) }, onProgress);
  // Awaited in order later (or dropped for a duplicate): never an unhandled rejection in between.
  prepared.catch(() => undefined);
  return { kind: 'started', hash, given, replaces: existing !== undefined, prepared };
}

/** The started file checked against the index as it is now (earlier files written), embedded, ready to write. */
async function finishDocument(started: Extract<Started, { kind: 'started' }>, source: string, options: IngestOptions, isKept: (source: string) => boolean) {
  const { embedder } = options;
  const store = options.storage.documents;
  // The same content under another name (a PDF uploaded twice, a copy in another folder) is reported, not indexed
  // again: two copies would fill the top results with the same text. Only while the first copy stays indexed.
  const original = (await store.getDocumentsByContentHash(started.hash)).find((document) => document.source !== source && isKept(document.source));
  if (original) {
    if (await store.getDocumentBySource(source)) await store.deleteDocument(source);
    return { kind: 'duplicate' as const, duplicateOf: original.source };
  }
  const prepared = await started.prepared;
  const vectors = await documentVectors(embedder, prepared.texts, store.vectorMode);
  // What the document says about itself (front matter) yields to what the ingest gives.
  const { title: _title, ...overrides } = started.given;
  const ownMetadata = prepared.metadata
    ? { ...(prepared.metadata.tags ? { tags: prepared.metadata.tags } : {}), ...(prepared.metadata.department ? { department: prepared.metadata.department } : {}) }
    : {};
  const metadata = { ...ownMetadata, ...overrides.metadata };
  const document: DocumentInput = {
    source,
    title: prepared.title,
    language: prepared.language,
    format: prepared.format,
    contentHash: started.hash,
    ...(prepared.pageCount ? { pageCount: prepared.pageCount } : {}),
    ...(prepared.metadata?.url ? { url: prepared.metadata.url } : {}),
    ...overrides,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
  const chunkInputs: ChunkInput[] = prepared.chunks.map((chunk, index) => ({ ...chunk, terms: prepared.terms[index]!, vector: vectors[index]! }));
  return { kind: 'document' as const, document, chunks: chunkInputs, replaces: started.replaces, warnings: prepared.warnings };
}

/**
 * Ingests files and folders. Sources are paths relative to the working directory (or `baseDir`); a folder outside it
 * is stored relative to its parent ("/srv/kb/docs/a.pdf" → "docs/a.pdf"), so that no server path reaches a citation.
 */
export async function ingestPaths(roots: readonly string[], options: IngestOptions): Promise<IngestSummary> {
  if (options.baseDir === undefined) {
    const workingDirectory = process.cwd();
    const outside = roots.filter((root) => {
      const relative = path.relative(workingDirectory, path.resolve(root));
      return relative.startsWith('..') || path.isAbsolute(relative);
    });
    if (outside.length > 0) {
      const groups: [string[], string][] = [
        [roots.filter((root) => !outside.includes(root)), workingDirectory],
        ...outside.map((root): [string[], string] => [[root], path.dirname(path.resolve(root))]),
      ];
      const summaries: IngestSummary[] = [];
      for (const [group, baseDir] of groups) if (group.length > 0) summaries.push(await ingestPaths(group, { ...options, baseDir }));
      return mergeSummaries(summaries);
    }
  }
  return ingestRoots(roots, options);
}

function mergeSummaries(summaries: readonly IngestSummary[]): IngestSummary {
  return summaries.reduce((merged, summary) => ({
    added: merged.added + summary.added,
    updated: merged.updated + summary.updated,
    unchanged: merged.unchanged + summary.unchanged,
    removed: merged.removed + summary.removed,
    failed: [...merged.failed, ...summary.failed],
    skipped: [...merged.skipped, ...summary.skipped],
    duplicates: [...merged.duplicates, ...summary.duplicates],
    warnings: [...merged.warnings, ...summary.warnings],
    chunks: merged.chunks + summary.chunks,
    pages: merged.pages + summary.pages,
    seconds: merged.seconds + summary.seconds,
  }));
}

async function ingestRoots(roots: readonly string[], options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const baseDir = options.baseDir ?? process.cwd();
  const { storage } = options;
  const store = storage.documents;
  const summary: IngestSummary = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [], skipped: [], duplicates: [], warnings: [], chunks: 0, pages: 0, seconds: 0 };
  const walked = walk(roots);
  summary.skipped = walked.skipped;
  const seen = new Set<string>();
  let written = 0;
  const rootPrefixes = roots.map((root) => sourceOf(root, baseDir));
  const underRoots = (source: string) => rootPrefixes.some((prefix) => source === prefix || source.startsWith(prefix.endsWith('/') ? prefix : prefix + '/'));
  // A document stays indexed after this run if this run indexed it, or it is outside the roots being ingested, or its
  // file is still on disk (documents under the roots whose file is gone are removed at the end).
  const isKept = (source: string) => seen.has(source) || !underRoots(source) || existsSync(path.resolve(baseDir, source));

  // Files are read, hashed and sent to the parser workers a few ahead of the one being written; writes stay in file
  // order (chunk ids, and so ties in ranking, do not depend on which worker finished first).
  const pool = new PreparePool(options.threads ?? 0);
  const ahead = Math.max(1, pool.threads * PREPARE_AHEAD_PER_THREAD);
  const pending: { position: number; source: string; started: Started | { kind: 'failed'; error: unknown } }[] = [];
  const failed = (source: string, error: unknown) => summary.failed.push({ path: source, reason: isKbError(error) ? String(error.details['reason'] ?? error.message) : describeError(error) });
  const write = async (item: (typeof pending)[number]) => {
    options.onProgress?.({ done: item.position, total: walked.files.length, file: item.source });
    const { started } = item;
    if (started.kind === 'failed') return failed(item.source, started.error);
    if (started.kind === 'unchanged') {
      summary.unchanged++;
      return;
    }
    let prepared: Awaited<ReturnType<typeof finishDocument>>;
    try {
      prepared = await finishDocument(started, item.source, options, isKept);
    } catch (error) {
      // Anything that goes wrong with one file (unreadable, corrupt, unsupported, embedder rejecting its text) is
      // that file's failure; the run goes on.
      return failed(item.source, error);
    }
    if (prepared.kind === 'duplicate') {
      summary.duplicates.push({ path: item.source, duplicateOf: prepared.duplicateOf });
      return;
    }
    // Store failures (disk full, read-only folder) are not the file's fault: they stop the run.
    await store.upsertDocument(prepared.document, prepared.chunks);
    for (const message of prepared.warnings) summary.warnings.push({ path: item.source, message });
    if (prepared.replaces) summary.updated++;
    else summary.added++;
    summary.chunks += prepared.chunks.length;
    summary.pages += prepared.document.pageCount ?? 0;
    if (++written % FLUSH_EVERY_DOCUMENTS === 0) await storage.flush({ complete: false });
  };
  try {
    for (const [position, file] of walked.files.entries()) {
      const source = sourceOf(file, baseDir);
      seen.add(source);
      let started: (typeof pending)[number]['started'];
      try {
        // OCR progress is told for the file being read, which may be ahead of the one being written.
        started = await startDocument(file, source, options, pool, (progress) => options.onProgress?.({ done: position, total: walked.files.length, file: source, ...progress }));
      } catch (error) {
        started = { kind: 'failed', error };
      }
      pending.push({ position, source, started });
      while (pending.length > ahead) await write(pending.shift()!);
    }
    while (pending.length > 0) await write(pending.shift()!);
  } finally {
    await pool.close();
  }
  const stored = await store.listDocuments();
  for (const missing of walked.missing) {
    // A root that no longer exists: its documents are removed below; say so only when nothing was indexed from it.
    const prefix = sourceOf(missing, baseDir);
    if (!stored.some((document) => document.source === prefix || document.source.startsWith(prefix + '/'))) {
      summary.failed.push({ path: prefix, reason: 'no such file or folder' });
    }
  }

  // Documents under an ingested root that are no longer on disk are removed.
  for (const document of stored) {
    if (seen.has(document.source)) continue;
    if (underRoots(document.source) && !existsSync(path.resolve(baseDir, document.source))) {
      await store.deleteDocument(document.source);
      summary.removed++;
    }
  }
  await options.storage.flush();
  options.onProgress?.({ done: walked.files.length, total: walked.files.length, file: '' });
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** Skipped files listed by name in the human summary; beyond this, a count. */
const SKIPPED_FILES_LISTED = 20;

export function formatSummary(summary: IngestSummary): string {
  const lines = [
    `ingest: ${summary.added} added, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.removed} removed, ` +
      `${summary.failed.length} failed, ${summary.skipped.length} skipped, ${summary.duplicates.length} duplicates; ${summary.chunks} chunks written in ${summary.seconds.toFixed(1)} s`,
  ];
  for (const warning of summary.warnings) lines.push(`partly indexed: ${warning.path}: ${warning.message}`);
  for (const duplicate of summary.duplicates.slice(0, SKIPPED_FILES_LISTED)) lines.push(`duplicate: ${duplicate.path} (same content as ${duplicate.duplicateOf}; not indexed again)`);
  for (const file of summary.skipped.slice(0, SKIPPED_FILES_LISTED)) lines.push(`skipped: ${file} (${path.extname(file) ? `${path.extname(file)} is not a supported format` : 'no file extension'})`);
  if (summary.skipped.length > SKIPPED_FILES_LISTED) lines.push(`skipped: ${summary.skipped.length - SKIPPED_FILES_LISTED} more (--json lists them all)`);
  return lines.join('\n');
}

export interface TextDocument {
  /** The document's identity in the store (a path, a URL or a dataset id). */
  source: string;
  title: string;
  text: string;
  url?: string;
}

/**
 * Ingests documents given as text (API uploads of plain text, benchmark corpora): the same chunking, embedding and
 * all-or-nothing write as files, incremental by content hash. Embedding is batched across documents, which matters
 * for collections of many short passages.
 */
export async function ingestTexts(documents: readonly TextDocument[], options: Omit<IngestOptions, 'baseDir'>): Promise<IngestSummary> {
  const started = performance.now();
  const { embedder } = options;
  const store = options.storage.documents;
  const summary: IngestSummary = { added: 0, updated: 0, unchanged: 0, removed: 0, failed: [], skipped: [], duplicates: [], warnings: [], chunks: 0, pages: 0, seconds: 0 };
  const batchSize = Math.max(embedder.maxBatch, 64);
  let pending: { document: DocumentInput; chunks: Omit<ChunkInput, 'vector'>[]; texts: string[]; replaces: boolean }[] = [];
  const flushPending = async () => {
    const texts = pending.flatMap((item) => item.texts);
    const vectors = await documentVectors(embedder, texts, store.vectorMode);
    let offset = 0;
    for (const item of pending) {
      await store.upsertDocument(
        item.document,
        item.chunks.map((chunk, index) => ({ ...chunk, vector: vectors[offset + index]! })),
      );
      offset += item.chunks.length;
      if (item.replaces) summary.updated++;
      else summary.added++;
      summary.chunks += item.chunks.length;
    }
    pending = [];
  };
  for (const [position, input] of documents.entries()) {
    options.onProgress?.({ done: position, total: documents.length, file: input.source });
    const text = input.text.trim();
    if (!text) {
      summary.failed.push({ path: input.source, reason: 'the document has no text' });
      continue;
    }
    const hash = createHash('sha256').update(`${input.title}\u0000${text}|pipeline=${PIPELINE_VERSION}|chunk=${options.chunking.maxTokens}/${options.chunking.overlapTokens}`).digest('hex');
    const existing = await store.getDocumentBySource(input.source);
    if (existing && existing.contentHash === hash) {
      summary.unchanged++;
      continue;
    }
    const chunks = chunkSections([{ text, headings: [] }], options.chunking);
    const texts = chunks.map((chunk) => indexableText(input.title, chunk));
    pending.push({
      document: { source: input.source, title: input.title, language: detectLanguage(text), format: 'text', contentHash: hash, ...(input.url ? { url: input.url } : {}) },
      chunks: chunks.map((chunk, index) => ({ ...chunk, terms: indexTerms(texts[index]!) })),
      texts,
      replaces: existing !== undefined,
    });
    if (pending.reduce((sum, item) => sum + item.texts.length, 0) >= batchSize) await flushPending();
  }
  await flushPending();
  await options.storage.flush();
  options.onProgress?.({ done: documents.length, total: documents.length, file: '' });
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
