// Maximal marginal relevance (Carbonell & Goldstein 1998) over the fused candidates, so that the context given to
// the answerer is not three copies of the same paragraph (overlapping chunks, a document ingested twice under two
// names):  MMR(d) = λ · relevance(d) − (1 − λ) · max_{s ∈ selected} similarity(d, s).
// Similarity is the Jaccard overlap of the chunks' index terms: cheap, and exact for near-duplicates.

export interface Candidate {
  id: number;
  /** Relevance in 0..1. */
  relevance: number;
}

export function jaccard(left: ReadonlySet<string>, right: ReadonlySet<string>): number {
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const term of left) if (right.has(term)) shared++;
  return shared / (left.size + right.size - shared);
}

/** Reorders candidates by MMR and returns the first k; λ = 1 keeps the relevance order. λ: useful range 0.5..1. */
export function maximalMarginalRelevance(candidates: readonly Candidate[], similarity: (left: number, right: number) => number, k: number, lambda: number): Candidate[] {
  if (lambda >= 1) return candidates.slice(0, k);
  const remaining = [...candidates];
  const selected: Candidate[] = [];
  while (selected.length < k && remaining.length > 0) {
    let bestIndex = 0;
    let bestScore = -Infinity;
    remaining.forEach((candidate, index) => {
      const redundancy = selected.reduce((maximum, chosen) => Math.max(maximum, similarity(candidate.id, chosen.id)), 0);
      const score = lambda * candidate.relevance - (1 - lambda) * redundancy;
      if (score > bestScore) {
        bestScore = score;
        bestIndex = index;
      }
    });
    selected.push(remaining.splice(bestIndex, 1)[0]!);
  }
  return selected;
}
