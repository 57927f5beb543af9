// Tokenization for the keyword index and for query analysis, Chinese and English alike.
// Latin text: NFKC, lower case, stop words dropped, Porter stemming; codes such as "E-104" also yield "e104".
// CJK text: overlapping character bigrams (a run of one character yields that character), the baseline that needs no
// dictionary and never misses a word boundary; see docs/EVALUATION.md for the comparison with word segmentation.
import { stemmer } from 'stemmer';
import { cjkCharacter } from './language.ts';
import { chineseStopwords, englishStopwords } from './stopwords.ts';

const runPattern = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+)|([\p{L}\p{N}]+(?:[-_./][\p{L}\p{N}]+)*)/gu;
const hasLetter = /\p{L}/u;
const hasDigit = /\p{N}/u;

export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function latinTerms(compound: string, output: string[]): void {
  const parts = compound.split(/[-_./]/).filter((part) => part.length > 0);
  for (const part of parts) {
    if (englishStopwords.has(part)) continue;
    output.push(hasLetter.test(part) && !hasDigit.test(part) ? stemmer(part) : part);
  }
  // "E-104", "M8x1.25", "KB-2031": the joined form lets "E104" match "E-104".
  if (parts.length > 1 && hasLetter.test(compound) && hasDigit.test(compound)) output.push(parts.join(''));
}

function cjkTerms(run: string, output: string[]): void {
  const characters = Array.from(run);
  if (characters.length === 1) {
    output.push(characters[0]!);
    return;
  }
  for (let index = 0; index + 1 < characters.length; index++) output.push(characters[index]! + characters[index + 1]!);
}

/** Terms of a text for the BM25 index, in order, with repetitions. */
export function tokenize(text: string): string[] {
  const output: string[] = [];
  for (const match of normalize(text).matchAll(runPattern)) {
    if (match[1] !== undefined) cjkTerms(match[1], output);
    else if (match[2] !== undefined) latinTerms(match[2], output);
  }
  return output;
}

/** Term → frequency. */
export function termFrequencies(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

const wordSegmenter = new Intl.Segmenter('zh', { granularity: 'word' });

/**
 * The content words of a question, for answerability and sentence scoring: each word with the index terms it maps
 * to. Chinese is segmented into words with the ICU dictionary (Intl.Segmenter), so that "故障码" is one word whose
 * presence can be checked, rather than bigrams that straddle word boundaries ("的故").
 */
export interface ContentWord {
  word: string;
  terms: string[];
  cjk: boolean;
}

export function contentWords(text: string): ContentWord[] {
  const seen = new Set<string>();
  const words: ContentWord[] = [];
  for (const segment of wordSegmenter.segment(normalize(text))) {
    if (!segment.isWordLike) continue;
    const word = segment.segment;
    if (seen.has(word)) continue;
    seen.add(word);
    const cjk = cjkCharacter.test(word);
    if (cjk) {
      if (chineseStopwords.has(word)) continue;
      const terms: string[] = [];
      cjkTerms(word, terms);
      words.push({ word, terms, cjk });
    } else {
      const terms: string[] = [];
      latinTerms(word, terms);
      if (terms.length > 0) words.push({ word, terms, cjk });
    }
  }
  return words;
}

/** Number of tokens in the chunker's sense: a CJK character or a Latin word/number each count as one. */
export function countTokens(text: string): number {
  let count = 0;
  for (const match of text.matchAll(/([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])|([\p{L}\p{N}]+)/gu)) {
    if (match[0]) count++;
  }
  return count;
}
