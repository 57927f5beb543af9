// Okapi BM25, as pure functions named after the formula:
//   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
//   score(t, d) = idf(t) · tf · (k1 + 1) / (tf + k1 · (1 - b + b · |d| / avgdl))
// scored over postings that the store supplies.
import type { Posting, ScoredChunk } from '../store/types.ts';

export interface Bm25Parameters {
  /** Term-frequency saturation, useful range 0.5..3.0 (1.2 is the classic default). */
  k1: number;
  /** Length normalisation, 0 (none) .. 1 (full); 0.75 is the classic default. */
  b: number;
}

export function inverseDocumentFrequency(documentFrequency: number, documentCount: number): number {
  return Math.log(1 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

export function bm25TermScore(termFrequency: number, documentLength: number, averageDocumentLength: number, idf: number, parameters: Bm25Parameters): number {
  const lengthRatio = averageDocumentLength > 0 ? documentLength / averageDocumentLength : 1;
  const denominator = termFrequency + parameters.k1 * (1 - parameters.b + parameters.b * lengthRatio);
  return (idf * termFrequency * (parameters.k1 + 1)) / denominator;
}

/**
 * Scores every chunk that contains a query term. queryTerms maps each term to its weight (its count in the query,
 * or an expansion weight); the total is Σ weight · score(t, d). Returns the top `limit`, best first.
 */
export function rankBm25(
  queryTerms: ReadonlyMap<string, number>,
  postings: ReadonlyMap<string, readonly Posting[]>,
  documentCount: number,
  averageDocumentLength: number,
  parameters: Bm25Parameters,
  limit: number,
  documentFrequencies?: ReadonlyMap<string, number>,
): ScoredChunk[] {
  const scores = new Map<number, number>();
  for (const [term, weight] of queryTerms) {
    const list = postings.get(term);
    if (!list || list.length === 0) continue;
    const idf = inverseDocumentFrequency(documentFrequencies?.get(term) ?? list.length, documentCount);
    for (const posting of list) {
      const score = weight * bm25TermScore(posting.termFrequency, posting.chunkLength, averageDocumentLength, idf, parameters);
      scores.set(posting.chunkId, (scores.get(posting.chunkId) ?? 0) + score);
    }
  }
  return topScores(scores, limit);
}

export function topScores(scores: ReadonlyMap<number, number>, limit: number): ScoredChunk[] {
  return [...scores.entries()].sort((left, right) => right[1] - left[1] || left[0] - right[0]).slice(0, limit);
}
