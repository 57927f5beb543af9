// The data that flows through ingestion: a parsed document is sections (text with its heading path and page),
// the chunker turns sections into chunks.
import type { Language } from '../text/language.ts';

export interface Section {
  text: string;
  /** Heading path from the outermost heading down, e.g. ["Maintenance", "Monthly checks"]. */
  headings: string[];
  /** 1-based page number, for paginated formats. */
  page?: number;
}

export interface ParsedDocument {
  title: string;
  /** What the document says about itself (Markdown front matter): link, tags, department. */
  metadata?: { url?: string; tags?: string[]; department?: string };
  language: Language;
  format: DocumentFormat;
  sections: Section[];
  pageCount?: number;
}

export type DocumentFormat = 'pdf' | 'docx' | 'html' | 'markdown' | 'text' | 'spreadsheet' | 'csv' | 'slides';

export interface SourceFile {
  /** Path as given (used in error messages). */
  path: string;
  bytes: Buffer;
}

export type Parser = (file: SourceFile) => Promise<ParsedDocument>;

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
}
