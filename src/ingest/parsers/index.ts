// The parser registry: the format is chosen by extension, then confirmed by content (magic bytes), so a renamed
// binary never reaches a text parser and a PDF named .txt is still read as a PDF.
import path from 'node:path';
import { KbError } from '../../errors.ts';
import type { DocumentFormat, ParseContext, Parser, ParsedDocument, SourceFile } from '../types.ts';
import { decodeText } from './encoding.ts';
import { formatByExtension } from '../formats.ts';

/**
 * Each parser is imported the first time a file of its format is parsed: pdf.js, mammoth, markdown-it and the HTML
 * parser together took 1.6 s of a 3.3 s CLI start, paid by `kb ask` and `kb serve`, which parse nothing.
 */
const parserLoaders: Record<DocumentFormat, () => Promise<Parser>> = {
  pdf: async () => (await import('./pdf.ts')).parsePdf,
  docx: async () => (await import('./docx.ts')).parseDocx,
  html: async () => (await import('./html.ts')).parseHtml,
  markdown: async () => (await import('./markdown.ts')).parseMarkdown,
  text: async () => (await import('./text.ts')).parseText,
  spreadsheet: async () => (await import('./tables.ts')).parseSpreadsheet,
  csv: async () => (await import('./tables.ts')).parseCsvFile,
  slides: async () => (await import('./slides.ts')).parseSlides,
  image: async () => (await import('./image.ts')).parseImage,
};

export function isSupportedPath(file: string): boolean {
  return path.extname(file).toLowerCase() in formatByExtension;
}

/** PNG, JPEG and TIFF (little- and big-endian) by their signatures. */
function isImage(bytes: Buffer): boolean {
  if (bytes.length < 8) return false;
  if (bytes.readUInt32BE(0) === 0x89504e47) return true;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return true;
  const head = bytes.readUInt32BE(0);
  return head === 0x49492a00 || head === 0x4d4d002a;
}

/** Office documents are ZIP archives: their part names (stored uncompressed in the archive) say which kind. */
function sniff(bytes: Buffer): DocumentFormat | 'zip' | undefined {
  if (bytes.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  if (isImage(bytes)) return 'image';
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return bytes.includes('word/') ? 'docx' : bytes.includes('xl/') ? 'spreadsheet' : bytes.includes('ppt/') ? 'slides' : 'zip';
  return undefined;
}

/** Formats recognized by their bytes, whatever their name says. */
const binaryFormats = new Set<DocumentFormat>(['pdf', 'docx', 'spreadsheet', 'slides', 'image']);

export function detectFormat(file: SourceFile): DocumentFormat {
  const extension = path.extname(file.path).toLowerCase();
  const byExtension = formatByExtension[extension];
  const byContent = sniff(file.bytes);
  if (byContent !== undefined && byContent !== 'zip') return byContent;
  if (byContent === 'zip') throw new KbError('KB_ERR_UNSUPPORTED_FORMAT', { file: file.path, reason: 'a ZIP archive that is not a DOCX document, an XLSX workbook or a PPTX deck' });
  if (byExtension === undefined) {
    throw new KbError('KB_ERR_UNSUPPORTED_FORMAT', { file: file.path, reason: `the extension "${extension || '(none)'}" is not one of ${Object.keys(formatByExtension).join(', ')}` });
  }
  if (binaryFormats.has(byExtension)) {
    throw new KbError('KB_ERR_PARSE', {
      file: file.path,
      reason: `the content is not a${{ spreadsheet: 'n XLSX', slides: ' PPTX', image: ' PNG, JPEG or TIFF' }[byExtension as string] ?? ` ${byExtension.toUpperCase()}`} file`,
    });
  }
  return byExtension;
}

/**
 * The content check made on uploads before they are accepted: the format by magic bytes and extension, and for
 * text formats, that the bytes are text. Throws the same typed errors as parsing.
 */
export function checkContent(file: SourceFile): DocumentFormat {
  const format = detectFormat(file);
  if (format === 'markdown' || format === 'text' || format === 'html' || format === 'csv') decodeText(file.bytes, file.path);
  return format;
}

export async function parseFile(file: SourceFile, context?: ParseContext): Promise<ParsedDocument> {
  const parse = await parserLoaders[detectFormat(file)]();
  return parse(file, context);
}
