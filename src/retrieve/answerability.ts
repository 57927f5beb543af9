// Answerability from the retrieval evidence: how much of the question's content (weighted by rarity) the best
// chunks actually contain. Out-of-scope questions ask about things the corpus never mentions ("CEO salary",
// "年终奖"), so their rare words are missing from every retrieved chunk; in-scope ones find most of them in one chunk.
//   weight(word)   = idf of the word (a CJK word's document frequency is estimated by its rarest bigram)
//   coverage(c)    = Σ weight(word found in c) / Σ weight(word)
//   confidence     = max over the top chunks of coverage(c)
import { inverseDocumentFrequency } from './bm25.ts';
import { normalize, tokenize, type ContentWord } from '../text/tokenize.ts';

/** A single CJK character carries little evidence on its own (it may be part of anything). */
const SINGLE_CJK_CHARACTER_WEIGHT = 0.3;
/**
 * Identifiers (model, part and fault codes) weigh this many times their IDF, 1..4: asking about "HL-600" or "M24"
 * when the corpus knows only "HL-400" and "M20" is the typical out-of-scope question, and a matching code is the
 * strongest evidence of an in-scope one.
 */
const CODE_WEIGHT_FACTOR = 2;

export interface WordWeight {
  word: ContentWord;
  weight: number;
}

export function weighWords(words: readonly ContentWord[], documentFrequency: (term: string) => number, documentCount: number): WordWeight[] {
  return words.map((word) => {
    if (word.cjk && Array.from(word.word).length === 1) return { word, weight: SINGLE_CJK_CHARACTER_WEIGHT };
    // The word's rarest term sets its weight: a word is as informative as its most specific part.
    const frequency = Math.min(...word.terms.map(documentFrequency));
    const idf = inverseDocumentFrequency(frequency, Math.max(documentCount, 1));
    return { word, weight: word.code ? idf * CODE_WEIGHT_FACTOR : idf };
  });
}

/** Share (0..1) of the word's terms found in a text: its tokenized terms, or the normalized text for CJK. */
export function wordPresence(word: ContentWord, textTerms: ReadonlySet<string>, normalizedText: string): number {
  if (word.cjk && word.terms.length === 1 && Array.from(word.terms[0]!).length === 1) return normalizedText.includes(word.word) ? 1 : 0;
  let found = 0;
  for (const term of word.terms) if (textTerms.has(term) || (word.cjk && normalizedText.includes(term))) found++;
  return found / word.terms.length;
}

export interface AnalyzedText {
  terms: Set<string>;
  normalized: string;
}

export function analyze(text: string): AnalyzedText {
  return { terms: new Set(tokenize(text)), normalized: normalize(text) };
}

/** Weighted share of the question's content found in the text. */
export function coverage(weights: readonly WordWeight[], text: AnalyzedText | string): number {
  const total = weights.reduce((sum, item) => sum + item.weight, 0);
  if (total === 0) return 0;
  const analyzed = typeof text === 'string' ? analyze(text) : text;
  let found = 0;
  for (const item of weights) found += item.weight * wordPresence(item.word, analyzed.terms, analyzed.normalized);
  return found / total;
}
