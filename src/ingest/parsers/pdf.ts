// PDF through pdf-parse (pdf.js), page by page so that every chunk keeps its page number. Numbered heading lines
// start a heading path, which continues across pages. Pages without a text layer (scans) are rendered and read by
// OCR. Encrypted and corrupt PDFs are typed errors.
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import { KbError, describeError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { tidyText } from './encoding.ts';
import { headingLevel } from './headings.ts';
import { unwrapLines, withoutRunningLines } from './page-layout.ts';

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

/**
 * A page whose text layer has fewer letters than this is taken for a scan (an image, perhaps with a stamped page
 * number) and read by OCR. Range 1..100: a real text page has hundreds.
 */
const SCANNED_PAGE_MAXIMUM_CHARACTERS = 20;

/** Scanned pages are rendered at this resolution for OCR: the detector's sweet spot for body text. Range 100..300. */
const OCR_RENDER_DPI = 150;

export interface PageText {
  num: number;
  text: string;
  ocr?: boolean;
}

/**
 * Sections from pages of text (a PDF's text layer, or OCR's reading of a scan): running headers and footers removed,
 * wrapped lines joined, numbered heading lines starting a heading path that continues across pages.
 */
export function sectionsOfPages(pages: readonly PageText[], skipLine?: string): { sections: Section[]; firstLine: string | undefined } {
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let firstLine: string | undefined;
  const pageLines = pages.map((page) => tidyText(joinCjkSpaces(page.text)).split('\n'));
  const kept = withoutRunningLines(pageLines);
  for (const [pageIndex, page] of pages.entries()) {
    // The title line on the first page is the document's title, not part of its first paragraph.
    const lines = unwrapLines(kept[pageIndex]!.filter((line) => line.trim() !== skipLine));
    let buffer: string[] = [];
    const flush = () => {
      const body = buffer.join('\n').trim();
      if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text), page: page.num, ...(page.ocr ? { ocr: true } : {}) });
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
  return { sections, firstLine };
}

/** A title line is at most this long (longer, the first line of a scan is a paragraph's). */
const TITLE_MAXIMUM_CHARACTERS = 80;

/**
 * The title of a document whose first page was read by OCR: its first line, when short. OCR gives no font sizes to
 * tell a title by, and the lines of a scan are joined into paragraphs; so the line is taken before that, and left
 * out of the text as a PDF's metadata title is.
 */
export function scannedTitleOf(pages: readonly PageText[]): string | undefined {
  const first = pages[0];
  if (!first?.ocr) return undefined;
  const line = first.text
    .split('\n')
    .map((entry) => entry.trim())
    .find(Boolean);
  // A numbered line ("3.2 Hydraulic faults", or "3.2液压站" as OCR reads it, without the space) is a section's
  // heading, not the document's title.
  const numbered = /^\d+(\.\d+)*[.、)]?\s*[^\d\s.]/u.test(line ?? '');
  return line && line.length <= TITLE_MAXIMUM_CHARACTERS && !numbered && headingLevel(line, '', '') === 0 ? line : undefined;
}

function letterCount(text: string): number {
  return text.replace(/[\s\p{P}\d]/gu, '').length;
}

export const parsePdf: Parser = async (file, context) => {
  if (file.bytes.subarray(0, 1024).indexOf('%PDF-') < 0) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'not a PDF file (no %PDF- header)' });
  const parser = new PDFParse({ data: new Uint8Array(file.bytes), verbosity: 0 });
  let pages: PageText[];
  let metadataTitle: string | undefined;
  const warnings: string[] = [];
  try {
    const result = await parser.getText({ pageJoiner: '' });
    pages = result.pages.map((page) => ({ num: page.num, text: page.text }));
    try {
      const info = await parser.getInfo();
      const title = (info.info as Record<string, unknown> | undefined)?.['Title'];
      if (typeof title === 'string' && title.trim()) metadataTitle = title.trim();
    } catch {
      // Metadata is optional; the text is what matters.
    }
    // Pages without a text layer are scans: rendered and read by OCR, each in turn (a page image is megabytes).
    const scanned = pages.filter((page) => letterCount(page.text) < SCANNED_PAGE_MAXIMUM_CHARACTERS);
    if (scanned.length > 0) {
      const { readScannedPages } = await import('../ocr/scanned-pages.ts');
      const read = await readScannedPages(
        scanned.map((page) => ({
          num: page.num,
          image: async () => {
            const shot = await parser.getScreenshot({ partial: [page.num], scale: OCR_RENDER_DPI / 72, imageDataUrl: false, imageBuffer: true });
            const data = shot.pages[0]?.data;
            if (!data) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `page ${page.num} cannot be rendered` });
            return data;
          },
        })),
        file.path,
        context,
      );
      for (const page of scanned) {
        const text = read.texts.get(page.num);
        if (text !== undefined) Object.assign(page, { text, ocr: true });
      }
      warnings.push(...read.warnings);
    }
  } catch (error) {
    if (error instanceof KbError) throw error;
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: reasonFor(error) }, { cause: error });
  } finally {
    await parser.destroy().catch(() => undefined);
  }
  metadataTitle ??= scannedTitleOf(pages);
  const { sections, firstLine } = sectionsOfPages(pages, metadataTitle);
  if (sections.length === 0) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: warnings.length > 0 ? `no text was read: ${warnings.join('; ')}` : 'the PDF has no text (no text layer, and OCR found none)' });
  }
  const allText = sections.map((section) => section.text).join('\n');
  return {
    title: metadataTitle ?? firstLine?.slice(0, 120) ?? path.basename(file.path, '.pdf'),
    language: detectLanguage(allText),
    format: 'pdf',
    sections,
    pageCount: pages.length,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
};
