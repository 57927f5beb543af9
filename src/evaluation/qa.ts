// Question-answering evaluation in the layout of shared/eval/clapnq/qa_dev.jsonl and cmrc2018/qa_dev.jsonl: every
// question goes through the whole pipeline; scored for the gold passage among citations and retrieved chunks,
// answer containment, token F1, and refusals on questions marked answerable: false.
import { z } from 'zod';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { readJsonLines } from './json-lines.ts';
import { containsAnswer, mean, rocAuc, tokenF1 } from './metrics.ts';
import { READ_EVERYTHING } from '../retrieve/read-scope.ts';

const qaLine = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    question: z.string(),
    answerable: z.boolean().optional(),
    answers: z.array(z.string()).default([]),
    gold_passage_ids: z.array(z.string()).optional(),
    gold_passage_id: z.string().optional(),
  })
  .transform((item) => ({
    id: item.id,
    question: item.question,
    answerable: item.answerable ?? true,
    answers: item.answers,
    gold: item.gold_passage_ids ?? (item.gold_passage_id ? [item.gold_passage_id] : []),
  }));
export type QaItem = z.infer<typeof qaLine>;

export function readQa(file: string, limit?: number): QaItem[] {
  const items = readJsonLines(file, qaLine);
  return limit ? items.slice(0, limit) : items;
}

export interface QaOutcome {
  id: string;
  answerable: boolean;
  refused: boolean;
  citedGold: boolean;
  retrievedGold: boolean;
  contains: boolean;
  f1: number;
  confidence: number;
}

export interface QaReport {
  questions: number;
  answerable: number;
  unanswerable: number;
  answered: number;
  gold_cited: number;
  'gold_retrieved@5': number;
  answer_containment: number;
  token_f1: number;
  refusal_precision: number;
  refusal_recall: number;
  /** How well the confidence separates answerable from unanswerable questions, whatever the threshold (ROC AUC). */
  confidence_auc: number;
  query_ms_p50: number;
}

/** Answered share of the answerable and refused share of the unanswerable questions if the threshold were `threshold`. */
export function thresholdSweep(outcomes: readonly QaOutcome[], thresholds: readonly number[]): { threshold: number; answered: number; refused: number }[] {
  const answerable = outcomes.filter((outcome) => outcome.answerable);
  const unanswerable = outcomes.filter((outcome) => !outcome.answerable);
  return thresholds.map((threshold) => ({
    threshold,
    answered: mean(answerable.map((outcome) => (outcome.confidence >= threshold ? 1 : 0))),
    refused: mean(unanswerable.map((outcome) => (outcome.confidence < threshold ? 1 : 0))),
  }));
}

export async function evaluateQa(knowledgeBase: KnowledgeBase, items: readonly QaItem[], onProgress?: (done: number) => void): Promise<{ report: QaReport; outcomes: QaOutcome[] }> {
  const outcomes: QaOutcome[] = [];
  const times: number[] = [];
  for (const [index, item] of items.entries()) {
    const started = performance.now();
    const result = await knowledgeBase.ask({ question: item.question, scope: READ_EVERYTHING });
    times.push(performance.now() - started);
    const gold = new Set(item.gold);
    outcomes.push({
      id: item.id,
      answerable: item.answerable,
      refused: !result.answerable,
      citedGold: result.answerable && result.citations.some((citation) => gold.has(citation.source)),
      retrievedGold: result.retrieval.chunks.slice(0, 5).some((chunk) => gold.has(chunk.source)),
      contains: result.answerable && containsAnswer(result.answer, item.answers),
      f1: result.answerable ? Math.max(0, ...item.answers.map((answer) => tokenF1(result.answer.replace(/\s*\[\d+\]/g, ''), answer))) : 0,
      confidence: result.confidence,
    });
    onProgress?.(index + 1);
  }
  const answerable = outcomes.filter((outcome) => outcome.answerable);
  const unanswerable = outcomes.filter((outcome) => !outcome.answerable);
  const refused = outcomes.filter((outcome) => outcome.refused);
  const rate = (values: boolean[]) => Math.round(mean(values.map((value) => (value ? 1 : 0))) * 1000) / 1000;
  const sorted = [...times].sort((a, b) => a - b);
  return {
    outcomes,
    report: {
      questions: outcomes.length,
      answerable: answerable.length,
      unanswerable: unanswerable.length,
      answered: rate(answerable.map((outcome) => !outcome.refused)),
      gold_cited: rate(answerable.map((outcome) => outcome.citedGold)),
      'gold_retrieved@5': rate(answerable.map((outcome) => outcome.retrievedGold)),
      answer_containment: rate(answerable.map((outcome) => outcome.contains)),
      token_f1: Math.round(mean(answerable.map((outcome) => outcome.f1)) * 1000) / 1000,
      refusal_precision: refused.length === 0 ? 0 : rate(refused.map((outcome) => !outcome.answerable)),
      refusal_recall: unanswerable.length === 0 ? 0 : rate(unanswerable.map((outcome) => outcome.refused)),
      confidence_auc:
        Math.round(
          rocAuc(
            answerable.map((outcome) => outcome.confidence),
            unanswerable.map((outcome) => outcome.confidence),
          ) * 1000,
        ) / 1000,
      query_ms_p50: Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100,
    },
  };
}
