// Heading detection for formats without markup (plain text, PDF pages): a short line standing alone that starts
// with a section number ("3.", "3.2", "第三章", "一、", "Chapter 2") and does not end like a sentence.

const numbered = /^(\d+(\.\d+){0,3})\.?\s+\S/;
/** "3.2液压站": a section number run into Chinese, as OCR reads "3.2 液压站" (up to two digits: not "2024年", "10000转"). */
const numberedChinese = /^(\d{1,2}(\.\d{1,2}){0,3})\.?(?=\p{Script=Han})/u;
const chineseNumbered = /^(第[一二三四五六七八九十百\d]+[章节部分条]|[一二三四五六七八九十]+、)/;
const chapter = /^(chapter|section|part|appendix)\s+[\dA-Z]+\b/i;

/** 0 when the line is not a heading, else its nesting level (1 = top). */
export function headingLevel(line: string, previous: string, next: string): number {
  const trimmed = line.trim();
  if (trimmed.length === 0 || trimmed.length > 60) return 0;
  // A footnote ("8 http://www.us-cert.gov/") or a wrapped link is never a heading.
  if (/https?:|:\/\/|\bwww\./i.test(trimmed)) return 0;
  if (/[.:;,。；，：、]$/.test(trimmed) && !/^第.+[章节]$/.test(trimmed)) return 0;
  const standsAlone = previous.trim() === '' || next.trim() === '' || /^\s*$/.test(previous);
  if (chineseNumbered.test(trimmed)) return trimmed.startsWith('第') && /章/.test(trimmed.slice(0, 6)) ? 1 : 2;
  if (chapter.test(trimmed)) return 1;
  const spaced = numbered.exec(trimmed);
  const match = spaced ?? numberedChinese.exec(trimmed);
  const rest = spaced ? trimmed.slice(spaced[0].length - 1) : match ? trimmed.slice(match[0].length) : '';
  const words = trimmed.split(/\s+/).length;
  // A numbered line is a heading when it stands alone, or when it is short and capitalised like a title
  // (PDF text has no blank lines to go by).
  // A numbered question is a heading too: FAQs title their sections "7.12 How do I put a package on hold?".
  const titleLike = (words <= 6 || (words <= 12 && trimmed.endsWith('?'))) && /^\p{Lu}/u.test(rest);
  if (match && (standsAlone || titleLike) && /\p{L}/u.test(rest)) {
    if (words > (trimmed.endsWith('?') ? 12 : 10)) return 0;
    return match[1]!.split('.').length;
  }
  return 0;
}
