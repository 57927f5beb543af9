// Reciprocal-rank fusion (Cormack et al. 2009): RRF(d) = Σ_lists weight_list / (k + rank_list(d)), rank from 1.
// Rank-based, so BM25 scores and cosine similarities need no common scale.
import type { ScoredChunk } from '../store/types.ts';

export interface RankedList {
  results: readonly ScoredChunk[];
  /** Relative trust in this list (default 1). */
  weight?: number;
}

/** Fused list, best first. k: useful range 1..200; 60 is the value from the paper. */
export function reciprocalRankFusion(lists: readonly RankedList[], k: number): ScoredChunk[] {
  const scores = new Map<number, number>();
  for (const list of lists) {
    const weight = list.weight ?? 1;
    list.results.forEach(([chunkId], index) => {
      scores.set(chunkId, (scores.get(chunkId) ?? 0) + weight / (k + index + 1));
    });
  }
  return [...scores.entries()].sort((left, right) => right[1] - left[1] || left[0] - right[0]);
}

/** The largest RRF score possible (first in every list), to express fused scores in 0..1. */
export function maximumRrfScore(lists: readonly RankedList[], k: number): number {
  return lists.reduce((sum, list) => sum + (list.weight ?? 1) / (k + 1), 0);
}
