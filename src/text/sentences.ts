// Sentence splitting for the chunker and the extractive answerer: Latin ". ! ?" followed by a space or the end,
// CJK "。！？；" anywhere, and line breaks (lists and table rows are separate statements).

export interface Sentence {
  text: string;
  start: number;
  end: number;
}

const sentenceEnd = /(?<=[.!?])(?=\s+)|(?<=[。！？；])|\n+/gu;

export function splitSentences(text: string, offset = 0): Sentence[] {
  const sentences: Sentence[] = [];
  let cursor = 0;
  const push = (end: number) => {
    const raw = text.slice(cursor, end);
    const leading = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (trimmed.length > 0) {
      const start = cursor + leading;
      sentences.push({ text: trimmed, start: offset + start, end: offset + start + trimmed.length });
    }
  };
  for (const match of text.matchAll(sentenceEnd)) {
    const index = match.index ?? 0;
    // "e.g. " and decimal-like abbreviations: do not end a sentence after a single lower-case letter or "No.".
    const before = text.slice(Math.max(0, index - 5), index);
    if (/(^|\s)(e\.g|i\.e|no|vs|etc|fig|approx)\.$/i.test(before)) continue;
    // "7. Verify zero energy": a list number at the start of a line is not a sentence.
    const lineStart = text.lastIndexOf('\n', index - 1) + 1;
    if (/^\s*\d{1,3}\.$/.test(text.slice(lineStart, index))) continue;
    push(index);
    cursor = index + match[0].length;
  }
  push(text.length);
  return sentences;
}
