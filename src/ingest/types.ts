// The data that flows through ingestion: a parsed document is sections (text with its heading path and page),
// the chunker turns sections into chunks.
import type { Language } from '../text/language.ts';
import type { OcrOptions } from './ocr/ocr.ts';
import type { DocumentFormat } from './formats.ts';

export interface Section {
  text: string;
  /** Heading path from the outermost heading down, e.g. ["Maintenance", "Monthly checks"]. */
  headings: string[];
  /** 1-based page number, for paginated formats. */
  page?: number;
  /** The text was read from an image by OCR (a scanned page, a picture): it may hold misread characters. */
  ocr?: boolean;
}

export interface ParsedDocument {
  title: string;
  /** What the document says about itself (Markdown front matter): link, tags, department. */
  metadata?: { url?: string; tags?: string[]; department?: string };
  language: Language;
  format: DocumentFormat;
  sections: Section[];
  pageCount?: number;
  /** What the parser could not do but did not stop for (pages left unread by OCR's limits), for the ingest summary. */
  warnings?: string[];
}

export type { DocumentFormat };

export interface SourceFile {
  /** Path as given (used in error messages). */
  path: string;
  bytes: Buffer;
}

/** What a parse may need beyond the file: OCR's limits, and someone to tell as slow pages are read. */
export interface ParseContext {
  ocr: OcrOptions;
  /** Called after each page read by OCR, with the pages read and the pages to read. */
  onOcrPage?: (done: number, total: number) => void;
}

export type Parser = (file: SourceFile, context?: ParseContext) => Promise<ParsedDocument>;

export interface Chunk {
  ordinal: number;
  text: string;
  headings: string[];
  page: number | undefined;
  /** Character offsets into the section's text concatenation (the document's extracted text). */
  startOffset: number;
  endOffset: number;
  language: Language;
  tokenCount: number;
  contentHash: string;
  /** Read by OCR (Section.ocr). */
  ocr?: boolean;
}
