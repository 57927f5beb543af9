// RM3 pseudo-relevance feedback (Lavrenko & Croft's relevance model, interpolated with the query as in Anserini):
//   P(t|R) ∝ Σ_{d ∈ top feedback chunks} score(d) · tf(t,d) / |d|
//   q'(t)   = λ · q(t) / |q|  +  (1 − λ) · P(t|R)   over the top `terms` terms of P(t|R)
// It adds terms that co-occur with the query in the best chunks: it helps recall on collections whose relevant
// documents use other words than the question, and costs a second BM25 pass.
import type { ScoredChunk } from '../store/types.ts';

export interface FeedbackParameters {
  /** Feedback chunks taken from the first pass, 1..50. */
  documents: number;
  /** Expansion terms kept, 5..100. */
  terms: number;
  /** λ, weight of the original query, 0..1. */
  originalWeight: number;
}

export function relevanceModelQuery(
  query: ReadonlyMap<string, number>,
  firstPass: readonly ScoredChunk[],
  chunkTerms: ReadonlyMap<number, ReadonlyMap<string, number>>,
  parameters: FeedbackParameters,
): Map<string, number> {
  const feedback = firstPass.slice(0, parameters.documents);
  const totalScore = feedback.reduce((sum, [, score]) => sum + score, 0);
  const model = new Map<string, number>();
  if (feedback.length === 0 || totalScore <= 0) return new Map(query);
  for (const [chunkId, score] of feedback) {
    const terms = chunkTerms.get(chunkId);
    if (!terms) continue;
    let length = 0;
    for (const frequency of terms.values()) length += frequency;
    if (length === 0) continue;
    const weight = score / totalScore;
    for (const [term, frequency] of terms) model.set(term, (model.get(term) ?? 0) + (weight * frequency) / length);
  }
  const top = [...model.entries()].sort((left, right) => right[1] - left[1]).slice(0, parameters.terms);
  const modelTotal = top.reduce((sum, [, weight]) => sum + weight, 0) || 1;
  const queryTotal = [...query.values()].reduce((sum, weight) => sum + weight, 0) || 1;
  const expanded = new Map<string, number>();
  for (const [term, weight] of query) expanded.set(term, (parameters.originalWeight * weight) / queryTotal);
  for (const [term, weight] of top) expanded.set(term, (expanded.get(term) ?? 0) + ((1 - parameters.originalWeight) * weight) / modelTotal);
  return expanded;
}
