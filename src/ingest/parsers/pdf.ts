// PDF through pdf-parse (pdf.js), page by page so that every chunk keeps its page number. Numbered heading lines
// start a heading path, which continues across pages. Encrypted, corrupt and image-only PDFs are typed errors.
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
  const kept = withoutRunningLines(pageLines);
  for (const [pageIndex, page] of pages.entries()) {
    // The title line on the first page is the document's title, not part of its first paragraph.
    const lines = unwrapLines(kept[pageIndex]!.filter((line) => line.trim() !== metadataTitle));
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
