// The CPU-heavy part of ingesting one file, as a pure function of its bytes: parse, chunk, and the index terms of each
// chunk. It runs in worker threads (prepare-pool.ts), so that an ingest uses every core and a server keeps answering
// queries while a job runs; or in the calling thread when there are none.
import { KbError } from '../errors.ts';
import { indexTerms } from '../text/tokenize.ts';
import { chunkSections, indexableText, type ChunkingOptions } from './chunker.ts';
import { parseFile } from './parsers/index.ts';
import { DEFAULT_OCR_OPTIONS, type OcrOptions } from './ocr/ocr.ts';
import type { Chunk, ParsedDocument } from './types.ts';

export interface PrepareInput {
  /** The source path (for error messages and the parser's choice of format). */
  source: string;
  bytes: Uint8Array;
  chunking: ChunkingOptions;
  /** A title given at ingest, over the document's own (it is part of every chunk's indexed text). */
  title?: string;
  /** OCR's limits for scanned pages and images (KB_OCR_*); defaults when absent. */
  ocr?: OcrOptions;
}

/** Told as a file's slow part goes on: pages read by OCR so far, of the pages to read. */
export type PrepareProgress = (progress: { ocrPages: number; ocrPagesTotal: number }) => void;

export interface PreparedDocument {
  title: string;
  metadata: ParsedDocument['metadata'];
  language: ParsedDocument['language'];
  format: ParsedDocument['format'];
  pageCount: number | undefined;
  chunks: Chunk[];
  /** Each chunk's indexed text (title, headings, text), for the embedder. */
  texts: string[];
  /** Each chunk's index terms with their frequencies. */
  terms: Map<string, number>[];
  /** What the parser left out without failing (pages past OCR's limits). */
  warnings: string[];
}

export async function prepareDocument(input: PrepareInput, onProgress?: PrepareProgress): Promise<PreparedDocument> {
  const parsed = await parseFile(
    { path: input.source, bytes: Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength) },
    { ocr: input.ocr ?? DEFAULT_OCR_OPTIONS, ...(onProgress ? { onOcrPage: (done: number, total: number) => onProgress({ ocrPages: done, ocrPagesTotal: total }) } : {}) },
  );
  const chunks = chunkSections(parsed.sections, input.chunking);
  if (chunks.length === 0) throw new KbError('KB_ERR_PARSE', { file: input.source, reason: 'the document has no text' });
  const title = input.title ?? parsed.title;
  const texts = chunks.map((chunk) => indexableText(title, chunk));
  return {
    title,
    metadata: parsed.metadata,
    language: parsed.language,
    format: parsed.format,
    pageCount: parsed.pageCount,
    chunks,
    texts,
    terms: texts.map((text) => indexTerms(text)),
    warnings: parsed.warnings ?? [],
  };
}

/** Chunks' terms as one string (terms separated by U+0001) and their frequencies, chunk after chunk. */
export interface EncodedTerms {
  text: string;
  frequencies: Uint32Array;
  /** Terms per chunk. */
  counts: Uint32Array;
}

export function encodeTerms(terms: readonly Map<string, number>[]): EncodedTerms {
  const all: string[] = [];
  const frequencies: number[] = [];
  const counts = new Uint32Array(terms.length);
  terms.forEach((map, index) => {
    counts[index] = map.size;
    for (const [term, frequency] of map) {
      all.push(term);
      frequencies.push(frequency);
    }
  });
  return { text: all.join('\u0001'), frequencies: Uint32Array.from(frequencies), counts };
}

export function decodeTerms(encoded: EncodedTerms): Map<string, number>[] {
  const all = encoded.text.length > 0 ? encoded.text.split('\u0001') : [];
  const result: Map<string, number>[] = [];
  let at = 0;
  for (const count of encoded.counts) {
    const map = new Map<string, number>();
    for (let index = 0; index < count; index++, at++) map.set(all[at]!, encoded.frequencies[at]!);
    result.push(map);
  }
  return result;
}
