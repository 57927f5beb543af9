// Plain text: paragraphs separated by blank lines. A short first line followed by a blank line is the title, and
// lines that look like numbered or underlined headings start a new heading path entry.
import path from 'node:path';
import { KbError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { decodeText, tidyText } from './encoding.ts';
import { headingLevel } from './headings.ts';
import { unwrapLines, withoutRunningLines } from './page-layout.ts';

/** A paragraph is hard-wrapped when its lines (all but the last) are at least this share of its longest (0.5..0.9). */
const WRAPPED_LINE_SHARE = 0.6;
/** …and its longest line has at least this many characters (30..80); shorter lines are lists of short items. */
const WRAPPED_MIN_WIDTH = 40;

/**
 * Paginated text (form feeds between pages, as RFCs and exported reports have): running headers and footers
 * ("RFC 8446  TLS  August 2018", "Rescorla  Standards Track  [Page 12]") and page numbers are removed.
 */
function withoutPageFurniture(text: string): string {
  if (!text.includes('\f')) return text;
  const pages = text.split('\f').map((page) => page.replace(/^\n+|\n+$/g, '').split('\n'));
  return withoutRunningLines(pages)
    .map((lines) => lines.join('\n'))
    .join('\n');
}

/**
 * Hard-wrapped paragraphs (fixed-width text: RFCs, exported mail, README files) become one line per sentence run: a
 * line break inside a sentence is not its end ("Servers MUST NOT use any value greater than" / "604800 seconds").
 */
function unwrapParagraphs(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((paragraph) => {
      const lines = paragraph.split('\n');
      if (lines.length < 2) return paragraph;
      const widths = lines.map((line) => line.trim().length);
      const widest = Math.max(...widths);
      const wrapped = widest >= WRAPPED_MIN_WIDTH && widths.slice(0, -1).every((width) => width >= widest * WRAPPED_LINE_SHARE);
      return wrapped ? unwrapLines(lines).join('\n') : paragraph;
    })
    .join('\n\n');
}

export const parseText: Parser = async (file) => {
  const text = tidyText(unwrapParagraphs(withoutPageFurniture(decodeText(file.bytes, file.path).replace(/\r\n?/g, '\n'))));
  if (!text) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the document has no text' });
  const lines = text.split('\n');
  let title = path.basename(file.path).replace(/\.[^.]+$/, '');
  let startLine = 0;
  if (lines[0] && lines[0].length <= 80 && (lines[1] === '' || /^[=-]{3,}$/.test(lines[1] ?? ''))) {
    title = lines[0].trim();
    startLine = /^[=-]{3,}$/.test(lines[1] ?? '') ? 2 : 1;
  }
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let buffer: string[] = [];
  const flush = () => {
    const body = buffer.join('\n').trim();
    if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text) });
    buffer = [];
  };
  for (let index = startLine; index < lines.length; index++) {
    const line = lines[index]!;
    const underlined = /^[=-]{3,}$/.test(lines[index + 1] ?? '') && line.trim().length > 0 && line.length <= 80;
    const level = underlined ? 1 : headingLevel(line, lines[index - 1] ?? '', lines[index + 1] ?? '');
    if (level > 0) {
      flush();
      while (headingStack.length > 0 && headingStack[headingStack.length - 1]!.level >= level) headingStack.pop();
      headingStack.push({ level, text: line.trim() });
      if (underlined) index++;
      continue;
    }
    buffer.push(line);
  }
  flush();
  return { title, language: detectLanguage(text), format: 'text', sections };
};
