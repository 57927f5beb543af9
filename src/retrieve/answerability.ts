// Answerability from the retrieval evidence: how much of the question's content (weighted by rarity) the best
// chunks actually contain. Out-of-scope questions ask about things the corpus never mentions ("CEO salary",
// "年终奖"), so their rare words are missing from every retrieved chunk; in-scope ones find most of them in one chunk.
//   weight(word)   = idf of the word (a CJK word's document frequency is estimated by its rarest bigram)
//   coverage(c)    = Σ weight(word found in c) / Σ weight(word)
//   confidence     = max over the top chunks of coverage(c)
import { inverseDocumentFrequency } from './bm25.ts';
import { normalize, tokenize, type ContentWord } from '../text/tokenize.ts';

/** A single CJK character word carries little evidence on its own (it may be part of anything). */
const SINGLE_CJK_CHARACTER_WEIGHT = 0.3;

export interface WordWeight {
  word: ContentWord;
  weight: number;
}

export function weighWords(words: readonly ContentWord[], documentFrequency: (term: string) => number, documentCount: number): WordWeight[] {
  return words.map((word) => {
    if (word.cjk && Array.from(word.word).length === 1) return { word, weight: SINGLE_CJK_CHARACTER_WEIGHT };
    const frequencies = word.terms.map(documentFrequency);
    // For a CJK word every bigram must occur; its frequency is at most that of its rarest bigram.
    // For a Latin compound ("E-104") the joined form or any part is evidence; take the rarest as the word's weight.
    const frequency = frequencies.length > 0 ? Math.min(...frequencies) : 0;
    return { word, weight: inverseDocumentFrequency(frequency, Math.max(documentCount, 1)) };
  });
}

export function wordPresent(word: ContentWord, chunkTerms: ReadonlySet<string>, normalizedText: string): boolean {
  if (word.cjk) return normalizedText.includes(word.word);
  return word.terms.some((term) => chunkTerms.has(term));
}

export function coverage(weights: readonly WordWeight[], chunkText: string): number {
  const total = weights.reduce((sum, item) => sum + item.weight, 0);
  if (total === 0) return 0;
  const terms = new Set(tokenize(chunkText));
  const text = normalize(chunkText);
  let found = 0;
  for (const item of weights) if (wordPresent(item.word, terms, text)) found += item.weight;
  return found / total;
}
