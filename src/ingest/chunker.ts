// Structure-aware chunking: a chunk never crosses a heading or a page (so its citation is exact), fills up to a
// token budget with whole sentences, repeats the last sentences of the previous chunk as overlap, and cuts an
// over-long sentence only between words or between CJK characters.
import { createHash } from 'node:crypto';
import { detectLanguage } from '../text/language.ts';
import { splitSentences, type Sentence } from '../text/sentences.ts';
import { countTokens } from '../text/tokenize.ts';
import { tokenUnitPattern } from '../text/patterns.ts';
import type { Chunk, Section } from './types.ts';

export interface ChunkingOptions {
  /** Token budget of a chunk (a CJK character or a Latin word is one token). Useful range 100..800. */
  maxTokens: number;
  /** Tokens of trailing sentences repeated at the start of the next chunk. Useful range 0..maxTokens/4. */
  overlapTokens: number;
}

interface Unit extends Sentence {
  tokens: number;
}

/** Cuts a sentence longer than the budget at token boundaries (after a word or a CJK character). */
function splitLongUnit(unit: Sentence, maxTokens: number): Unit[] {
  const pieces: Unit[] = [];
  let pieceStart = 0;
  let tokens = 0;
  let lastEnd = 0;
  for (const match of unit.text.matchAll(tokenUnitPattern())) {
    const end = (match.index ?? 0) + match[0].length;
    if (tokens === maxTokens) {
      pieces.push(trimmedPiece(unit, pieceStart, lastEnd, tokens));
      pieceStart = lastEnd;
      tokens = 0;
    }
    tokens++;
    lastEnd = end;
  }
  const rest = unit.text.slice(pieceStart);
  if (rest.trim()) pieces.push(trimmedPiece(unit, pieceStart, unit.text.length, countTokens(rest)));
  return pieces;
}

/** A piece of a sentence with the white space at its edges left out, so offsets point at its first character. */
function trimmedPiece(unit: Sentence, start: number, end: number, tokens: number): Unit {
  const raw = unit.text.slice(start, end);
  const leading = raw.length - raw.trimStart().length;
  const text = raw.trim();
  return { text, start: unit.start + start + leading, end: unit.start + start + leading + text.length, tokens };
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function chunkSections(sections: readonly Section[], options: ChunkingOptions): Chunk[] {
  const chunks: Chunk[] = [];
  let sectionOffset = 0;
  for (const section of sections) {
    const units: Unit[] = [];
    for (const sentence of splitSentences(section.text)) {
      const tokens = countTokens(sentence.text);
      if (tokens === 0) continue;
      if (tokens > options.maxTokens) units.push(...splitLongUnit(sentence, options.maxTokens));
      else units.push({ ...sentence, tokens });
    }
    let current: Unit[] = [];
    let currentTokens = 0;
    const emit = () => {
      if (current.length === 0) return;
      const start = current[0]!.start;
      const end = current[current.length - 1]!.end;
      const text = section.text.slice(start, end);
      chunks.push({
        ordinal: chunks.length,
        text,
        headings: [...section.headings],
        page: section.page,
        startOffset: sectionOffset + start,
        endOffset: sectionOffset + end,
        language: detectLanguage(text),
        tokenCount: currentTokens,
        contentHash: hashOf(`${section.headings.join('\u0001')}\u0002${text}`),
        ...(section.ocr ? { ocr: true } : {}),
      });
    };
    for (const unit of units) {
      if (currentTokens + unit.tokens > options.maxTokens && current.length > 0) {
        emit();
        // Overlap: carry trailing sentences of the chunk just emitted, as long as they fit the overlap budget.
        const carried: Unit[] = [];
        let carriedTokens = 0;
        for (let index = current.length - 1; index >= 1; index--) {
          const candidate = current[index]!;
          // The overlap must leave room for the unit that starts the new chunk.
          if (carriedTokens + candidate.tokens > options.overlapTokens || carriedTokens + candidate.tokens + unit.tokens > options.maxTokens) break;
          carried.unshift(candidate);
          carriedTokens += candidate.tokens;
        }
        current = carried;
        currentTokens = carriedTokens;
      }
      current.push(unit);
      currentTokens += unit.tokens;
    }
    emit();
    sectionOffset += section.text.length + 2; // sections are joined with a blank line in the document text
  }
  return chunks;
}

/** The text that BM25 and the embedder see for a chunk: its document title and heading path give it context. */
export function indexableText(title: string, chunk: Pick<Chunk, 'headings' | 'text'>): string {
  const headings = chunk.headings.filter((heading) => heading !== title);
  return [title, headings.join(' > '), chunk.text].filter((part) => part.length > 0).join('\n');
}
