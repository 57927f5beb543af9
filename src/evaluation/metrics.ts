// Evaluation metrics as pure functions, with trec_eval conventions: graded gain 2^rel − 1, log2 discount, and
// answer containment after normalization (NFKC, lower case, no white space, no thousands separators).
import { tokenUnitPattern } from '../text/patterns.ts';

/** nDCG@k over a ranked list of document ids and graded judgments (rel > 0 is relevant). */
export function ndcgAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, index) => {
    const relevance = judgments.get(id) ?? 0;
    if (relevance > 0) dcg += (2 ** relevance - 1) / Math.log2(index + 2);
  });
  const ideal = [...judgments.values()]
    .filter((relevance) => relevance > 0)
    .sort((a, b) => b - a)
    .slice(0, k);
  const idealDcg = ideal.reduce((sum, relevance, index) => sum + (2 ** relevance - 1) / Math.log2(index + 2), 0);
  return idealDcg > 0 ? dcg / idealDcg : 0;
}

export function recallAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  const relevant = [...judgments.entries()].filter(([, relevance]) => relevance > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export function reciprocalRankAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  const index = ranked.slice(0, k).findIndex((id) => (judgments.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

export function normalizeAnswer(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/\s+/g, '');
}

export function containsAnswer(answer: string, gold: readonly string[]): boolean {
  const normalized = normalizeAnswer(answer);
  return gold.some((candidate) => normalized.includes(normalizeAnswer(candidate)));
}

/** Token F1 (SQuAD style): English words, Chinese characters. */
export function tokenF1(prediction: string, gold: string): number {
  const tokens = (text: string) => text.normalize('NFKC').toLowerCase().match(tokenUnitPattern()) ?? [];
  const predicted = tokens(prediction);
  const expected = tokens(gold);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const count = counts.get(token) ?? 0;
    if (count > 0) {
      common++;
      counts.set(token, count - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * ROC AUC: the probability that a random positive scores above a random negative (ties count half). How well a
 * score separates two classes whatever threshold is chosen: 0.5 is chance, 1 perfect.
 */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return 0;
  let wins = 0;
  for (const positive of positives) for (const negative of negatives) wins += positive > negative ? 1 : positive === negative ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}
