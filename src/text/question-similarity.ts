// How alike two questions are: the share of content words they have in common (Jaccard over English stems, Chinese
// words and codes; question words and stop words left out, as retrieval leaves them). Used to match a question to a
// curated one and to group unanswered questions into knowledge gaps.
import { contentWords } from './tokenize.ts';

export function questionTerms(question: string): Set<string> {
  return new Set(contentWords(question).flatMap((word) => word.terms));
}

/** |a ∩ b| / |a ∪ b|; 0 when both are empty. */
export function termSimilarity(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const term of a) if (b.has(term)) shared++;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}
