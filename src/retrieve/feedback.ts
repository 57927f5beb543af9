// RM3 pseudo-relevance feedback (Lavrenko & Croft's relevance model, interpolated with the query as in Anserini):
//   P(t|R) ∝ Σ_{d ∈ top feedback chunks} score(d) · tf(t,d) / |d|
//   q'(t)   = λ · q(t) / |q|  +  (1 − λ) · P(t|R)   over the top `terms` terms of P(t|R)
// It adds terms that co-occur with the query in the best chunks: it helps recall on collections whose relevant
// documents use other words than the question, and costs a second BM25 pass.
//
// Bounded (session 5): expansion terms are single words (never the index's word pairs), at most 20 (KB_RM3), none
// found in more than MAX_DOCUMENT_SHARE of the chunks, and the second pass is pruned like any query (MaxScore). With
// 30 terms and pairs the second pass cost 40% of an answer at 11k chunks. nDCG@10 cranfield 0.3969 → 0.3896, clapnq
// 0.9481 → 0.9496, cacm 0.4792 → 0.4796 (docs/EVALUATION.md). Fewer terms weigh more each: with 10 at λ 0.6 an
// expansion word outweighed a query word and the demo's "What does fault code E-104 mean…" was refused.
import type { ScoredChunk } from '../store/types.ts';

export interface FeedbackParameters {
  /** Feedback chunks taken from the first pass, 1..50. */
  documents: number;
  /** Expansion terms kept, 5..100. */
  terms: number;
  /** λ, weight of the original query, 0..1. */
  originalWeight: number;
}

/**
 * Share of all chunks above which a word is never an expansion term (0.1..1): a word in most chunks (a product name
 * on every page) says nothing about relevance and has the longest posting list. At 0.1 and 0.25 the cut lowered
 * cacm (0.4605, 0.4685): it is set where it binds only on such words.
 */
export const MAX_DOCUMENT_SHARE = 0.5;

/** Whether an index term may be an expansion term by its form: single words only, not the adjacent pairs. */
export function isExpansionWord(term: string): boolean {
  return !term.includes(' ');
}

/** P(t|R) over the first pass's top `documents` chunks, best term first. */
export function relevanceModel(firstPass: readonly ScoredChunk[], chunkTerms: ReadonlyMap<number, ReadonlyMap<string, number>>, documents: number): [string, number][] {
  const feedback = firstPass.slice(0, documents);
  const totalScore = feedback.reduce((sum, [, score]) => sum + score, 0);
  const model = new Map<string, number>();
  if (feedback.length === 0 || totalScore <= 0) return [];
  for (const [chunkId, score] of feedback) {
    const terms = chunkTerms.get(chunkId);
    if (!terms) continue;
    let length = 0;
    for (const frequency of terms.values()) length += frequency;
    if (length === 0) continue;
    const weight = score / totalScore;
    for (const [term, frequency] of terms) model.set(term, (model.get(term) ?? 0) + (weight * frequency) / length);
  }
  return [...model.entries()].sort((left, right) => right[1] - left[1]);
}

/** q'(t) = λ · q(t)/|q| + (1 − λ) · P(t|R)/|P| over the chosen model terms. */
export function expandQuery(query: ReadonlyMap<string, number>, top: readonly [string, number][], originalWeight: number): Map<string, number> {
  if (top.length === 0) return new Map(query);
  const modelTotal = top.reduce((sum, [, weight]) => sum + weight, 0) || 1;
  const queryTotal = [...query.values()].reduce((sum, weight) => sum + weight, 0) || 1;
  const expanded = new Map<string, number>();
  for (const [term, weight] of query) expanded.set(term, (originalWeight * weight) / queryTotal);
  for (const [term, weight] of top) expanded.set(term, (expanded.get(term) ?? 0) + ((1 - originalWeight) * weight) / modelTotal);
  return expanded;
}
