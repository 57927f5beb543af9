// PDF through pdf-parse (pdf.js), page by page so that every chunk keeps its page number. Numbered heading lines
// start a heading path, which continues across pages. Encrypted, corrupt and image-only PDFs are typed errors.
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import { KbError, describeError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { tidyText } from './encoding.ts';
import { headingLevel } from './headings.ts';

function reasonFor(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return 'the PDF is encrypted with a password';
  if (name === 'InvalidPDFException') return `the PDF is corrupt or truncated (${describeError(error)})`;
  return `the PDF cannot be read (${describeError(error)})`;
}

/** pdf.js puts spaces between CJK glyphs of separate text runs; they are not word breaks in Chinese. */
function joinCjkSpaces(text: string): string {
  return text.replace(/(?<=[\p{Script=Han}，。；：、！？（）])[ ]+(?=[\p{Script=Han}，。；：、！？（）])/gu, '');
}

/** Lines that repeat on at least this share of pages (page headers and footers, digits ignored) are dropped. */
const REPEATED_LINE_SHARE = 0.5;
/** Lines at the top and bottom of a page searched for running headers and footers (1..6 each). */
const PAGE_HEADER_LINES = 4;
const PAGE_FOOTER_LINES = 3;
/** A line that is only a page number ("7", "xii", "- 7 -", "Page 7", "第 7 页"). */
const pageNumberLine = /^(-\s*)?(\d{1,4}|[ivxlcdm]{1,7}|page\s+\d{1,4}(\s+of\s+\d{1,4})?|第\s*\d{1,4}\s*页)(\s*-)?$/i;

/** Page-number lines among a page's first and last lines. */
export function isPageNumberAtEdge(lines: readonly string[], index: number): boolean {
  return (index < PAGE_HEADER_LINES || index >= lines.length - PAGE_FOOTER_LINES) && pageNumberLine.test(lines[index]!.trim());
}

/** Lines (digits as #) found at the edges of at least half the pages: running headers and footers. */
export function repeatedLines(pages: readonly string[][]): Set<string> {
  const repeated = new Set<string>();
  if (pages.length < 2) return repeated;
  const counts = new Map<string, number>();
  for (const lines of pages) {
    // Running headers take up to four lines (a two-line title, the page number, a notice), footers up to three.
    const edges = new Set([...lines.slice(0, PAGE_HEADER_LINES), ...lines.slice(-PAGE_FOOTER_LINES)].map((line) => line.trim().replace(/\d+/g, '#')).filter(Boolean));
    for (const line of edges) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  for (const [line, count] of counts) if (count >= Math.max(2, pages.length * REPEATED_LINE_SHARE)) repeated.add(line);
  return repeated;
}

const endsStatement = /[.!?:;。！？：；]$/;
const startsBlock = /^(\d+[.)、]|[-•*]\s|[一二三四五六七八九十]+、|第.+[章节条])/;

/**
 * pdf.js returns the lines as laid out on the page; a sentence wrapped over two lines must become one again, or
 * sentence splitting and CJK bigrams break at the wrap ("更换液\n压油"). Table rows and list items stay separate.
 */
export function unwrapLines(lines: readonly string[]): string[] {
  const output: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const previous = output[output.length - 1];
    const joinable =
      previous !== undefined && line !== '' && previous !== '' && !endsStatement.test(previous) && !startsBlock.test(line) && !line.includes(' | ') &&
      headingLevel(previous, '', '') === 0;
    if (joinable) {
      const cjkJoin = /[\p{Script=Han}，、（）]$/u.test(previous) || /^[\p{Script=Han}，。、；：）]/u.test(line);
      output[output.length - 1] = previous + (cjkJoin ? '' : ' ') + line;
    } else output.push(line);
  }
  return output;
}

export const parsePdf: Parser = async (file) => {
  if (file.bytes.subarray(0, 1024).indexOf('%PDF-') < 0) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'not a PDF file (no %PDF- header)' });
  const parser = new PDFParse({ data: new Uint8Array(file.bytes), verbosity: 0 });
  let pages: { num: number; text: string }[];
  let metadataTitle: string | undefined;
  try {
    const result = await parser.getText({ pageJoiner: '' });
    pages = result.pages;
    try {
      const info = await parser.getInfo();
      const title = (info.info as Record<string, unknown> | undefined)?.['Title'];
      if (typeof title === 'string' && title.trim()) metadataTitle = title.trim();
    } catch {
      // Metadata is optional; the text is what matters.
    }
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: reasonFor(error) }, { cause: error });
  } finally {
    await parser.destroy().catch(() => undefined);
  }
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let firstLine: string | undefined;
  const pageLines = pages.map((page) => tidyText(joinCjkSpaces(page.text)).split('\n'));
  const repeated = repeatedLines(pageLines);
  for (const [pageIndex, page] of pages.entries()) {
    // The title line on the first page is the document's title, not part of its first paragraph.
    const lines = unwrapLines(pageLines[pageIndex]!.filter((line, index, all) => !repeated.has(line.trim().replace(/\d+/g, '#')) && !isPageNumberAtEdge(all, index) && line.trim() !== metadataTitle));
    let buffer: string[] = [];
    const flush = () => {
      const body = buffer.join('\n').trim();
      if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text), page: page.num });
      buffer = [];
    };
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      if (firstLine === undefined && line.trim()) firstLine = line.trim();
      const level = headingLevel(line, lines[index - 1] ?? '', lines[index + 1] ?? '');
      if (level > 0) {
        flush();
        while (headingStack.length > 0 && headingStack[headingStack.length - 1]!.level >= level) headingStack.pop();
        headingStack.push({ level, text: line.trim() });
        continue;
      }
      buffer.push(line);
    }
    flush();
  }
  if (sections.length === 0) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the PDF has no extractable text (scanned images need OCR first)' });
  }
  const allText = sections.map((section) => section.text).join('\n');
  return {
    title: metadataTitle ?? firstLine?.slice(0, 120) ?? path.basename(file.path, '.pdf'),
    language: detectLanguage(allText),
    format: 'pdf',
    sections,
    pageCount: pages.length,
  };
};
