// Page layout that is not content, for formats that come in pages (PDF pages, plain text split by form feeds):
// running headers and footers, page numbers, and sentences hard-wrapped over several lines.
import { headingLevel } from './headings.ts';

/** Lines that repeat on at least this share of pages (page headers and footers, digits ignored) are dropped. */
const REPEATED_LINE_SHARE = 0.5;
/** Lines at the top and bottom of a page searched for running headers and footers (1..6 each). */
const PAGE_HEADER_LINES = 4;
const PAGE_FOOTER_LINES = 3;
/**
 * A header can run longer (NIST: a two-line title, the page number, and a notice whose URL pdf.js breaks over four
 * lines): up to this many lines (4..12) are dropped from the top of a page while each of them repeats there on half
 * the pages. Only an unbroken run from the top: a body line repeated further down stays.
 */
const LONG_HEADER_LINES = 8;
/** Lines at the top and bottom of a page where a lone number is a page number (1..6). */
const PAGE_NUMBER_EDGE_LINES = 4;
/** A line that is only a page number ("7", "xii", "- 7 -", "Page 7", "第 7 页"). */
const pageNumberLine = /^(-\s*)?(\d{1,4}|[ivxlcdm]{1,7}|page\s+\d{1,4}(\s+of\s+\d{1,4})?|第\s*\d{1,4}\s*页)(\s*-)?$/i;

/** Page-number lines among a page's first and last lines. */
function isPageNumberAtEdge(lines: readonly string[], index: number): boolean {
  return (index < PAGE_NUMBER_EDGE_LINES || index >= lines.length - PAGE_FOOTER_LINES) && pageNumberLine.test(lines[index]!.trim());
}

/** A line as compared across pages: page numbers (digits, a roman numeral at the end) as #. */
const lineKey = (line: string) => line.trim().replace(/\d+|\b[ivxlcdm]{1,7}$/gi, '#');

/** Lines (digits as #) found at the edges of at least half the pages: running headers and footers. */
function repeatedLines(pages: readonly string[][], headerLines = PAGE_HEADER_LINES): Set<string> {
  const repeated = new Set<string>();
  if (pages.length < 2) return repeated;
  const counts = new Map<string, number>();
  for (const lines of pages) {
    const edges = new Set([...lines.slice(0, headerLines), ...lines.slice(-PAGE_FOOTER_LINES)].map(lineKey).filter(Boolean));
    for (const line of edges) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  for (const [line, count] of counts) if (count >= Math.max(2, pages.length * REPEATED_LINE_SHARE)) repeated.add(line);
  return repeated;
}

/**
 * The family key of an all-capitals first line: its first two words, digits as #. Book classes print the chapter and
 * the current section in capitals at the top of each page ("CHAPTER 7. BASICS OF … 7.12. HOW DO I PUT A PACKAGE ON
 * HOLD?"); the line changes with every section, so it never repeats whole, but its start does. Lines with lower-case
 * letters are not considered: body text starting pages is mixed case.
 */
function capitalsFamily(line: string): string | undefined {
  const trimmed = line.trim();
  if (!/\p{Lu}/u.test(trimmed) || /\p{Ll}/u.test(trimmed)) return undefined;
  const words = trimmed.replace(/\d+/g, '#').split(/\s+/);
  return words.length >= 3 ? words.slice(0, 2).join(' ') : undefined;
}

/** Families of all-capitals first lines found on at least half the pages: running headers that name the section. */
function runningCapitalsFamilies(pages: readonly string[][]): Set<string> {
  const counts = new Map<string, number>();
  for (const lines of pages) {
    const family = lines[0] === undefined ? undefined : capitalsFamily(lines[0]);
    if (family) counts.set(family, (counts.get(family) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, count]) => pages.length >= 2 && count >= Math.max(2, pages.length * REPEATED_LINE_SHARE)).map(([family]) => family));
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
      previous !== undefined && line !== '' && previous !== '' && !endsStatement.test(previous) && !startsBlock.test(line) && !line.includes(' | ') && headingLevel(previous, '', '') === 0;
    if (joinable) {
      const cjkJoin = /[\p{Script=Han}，、（）]$/u.test(previous) || /^[\p{Script=Han}，。、；：）]/u.test(line);
      output[output.length - 1] = previous + (cjkJoin ? '' : ' ') + line;
    } else output.push(line);
  }
  return output;
}

/** A table-of-contents entry: a title, dot leaders and a page number ("7.8 What is a Virtual Package? . . . . 30"). */
const contentsEntry = /((\.\s?){4,}|…{2,}|(·\s?){4,})\s*([a-z]{1,2}-)?(\d{1,4}(-\d{1,4})?|[ivxlcdm]{1,7})$/i;

/**
 * Each page without its running headers and footers (lines at the top or bottom of at least half the pages, digits
 * ignored), page-number lines at its edges and table-of-contents entries. Blank lines stay where they are and take no edge slot.
 */
export function withoutRunningLines(pages: readonly string[][]): string[][] {
  const contentOf = (lines: readonly string[]) => lines.filter((line) => line.trim() !== '');
  const repeated = repeatedLines(pages.map(contentOf));
  const repeatedAtTop = repeatedLines(pages.map(contentOf), LONG_HEADER_LINES);
  const families = runningCapitalsFamilies(pages.map(contentOf));
  return pages.map((lines) => {
    const content = contentOf(lines);
    let contentIndex = -1;
    let inTopRun = true;
    return lines.filter((line) => {
      if (line.trim() === '') return true;
      contentIndex++;
      const key = lineKey(line);
      const dropped =
        (contentIndex === 0 && families.has(capitalsFamily(line) ?? '')) ||
        // Contents entries only repeat the headings, and outrank the sections they list for every question.
        contentsEntry.test(line.trim()) ||
        repeated.has(key) ||
        isPageNumberAtEdge(content, contentIndex) ||
        (inTopRun && contentIndex < LONG_HEADER_LINES && repeatedAtTop.has(key));
      inTopRun &&= dropped;
      return !dropped;
    });
  });
}
