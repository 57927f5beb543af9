// Evaluation on a questions file (docs-corpus/eval/questions.jsonl): each question is asked through the whole
// pipeline (condense → retrieve → answer), and scored for document hits, answer containment and refusals.
import { z } from 'zod';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { readJsonLines } from './json-lines.ts';
import { containsAnswer, mean } from './metrics.ts';
import { READ_EVERYTHING } from '../retrieve/read-scope.ts';
import type { Citation } from '../answer/types.ts';

export const questionSchema = z.object({
  id: z.string(),
  question: z.string().min(1),
  language: z.enum(['zh', 'en']).optional(),
  answerable: z.boolean(),
  answers: z.array(z.string()),
  document: z.string().optional(),
  /** Other documents that hold the same text (the TXT and PDF of an HTML manual): citing one of them is right too. */
  documents: z.array(z.string()).optional(),
  page: z.number().int().optional(),
  heading: z.string().optional(),
  kind: z.string().optional(),
  history: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() })).optional(),
});
export type EvaluationQuestion = z.infer<typeof questionSchema>;

export function readQuestions(file: string): EvaluationQuestion[] {
  return readJsonLines(file, questionSchema);
}

export interface QuestionOutcome {
  id: string;
  language: string;
  kind: string;
  answerable: boolean;
  refused: boolean;
  hitAt1: boolean;
  hitAt5: boolean;
  pageHit: boolean | undefined;
  contains: boolean;
  /** The answer cites the gold document (or one accepted instead, or an alternative) at the gold page or heading. */
  sourceCited: boolean;
  /** No markup, entity, cut-off URL or running page header/footer in the answer. */
  clean: boolean;
  confidence: number;
  answer: string;
}

export interface QuestionReport {
  questions: number;
  answerable: number;
  unanswerable: number;
  'hit@1': number;
  'hit@5': number;
  page_hit: number;
  answered: number;
  answer_containment: number;
  /** Answerable questions answered with the expected fact and citing the right document. */
  answer_correct_with_source: number;
  /** Answers (not refusals) free of markup, entities, cut URLs and page furniture. */
  clean: number;
  refusal_precision: number;
  refusal_recall: number;
  multi_turn_passed: string;
  by_language: Record<string, { 'hit@5': number; answer_containment: number; refusal_recall: number }>;
  outcomes: QuestionOutcome[];
}

export async function evaluateQuestions(knowledgeBase: KnowledgeBase, questions: readonly EvaluationQuestion[], onProgress?: (done: number) => void): Promise<QuestionReport> {
  const outcomes: QuestionOutcome[] = [];
  for (const [index, item] of questions.entries()) {
    const result = await knowledgeBase.ask({ question: item.question, scope: READ_EVERYTHING, ...(item.history ? { history: item.history } : {}) });
    const retrieved = result.retrieval.chunks;
    const documents = retrieved.map((chunk) => chunk.source);
    const goldPageHit = item.page !== undefined ? retrieved.slice(0, 5).some((chunk) => chunk.source === item.document && chunk.page === item.page) : undefined;
    outcomes.push({
      id: item.id,
      language: item.language ?? 'en',
      kind: item.kind ?? 'fact',
      answerable: item.answerable,
      refused: !result.answerable,
      hitAt1: item.document !== undefined && documents[0] === item.document,
      hitAt5: item.document !== undefined && documents.slice(0, 5).includes(item.document),
      pageHit: goldPageHit,
      contains: result.answerable && containsAnswer(result.answer, item.answers),
      sourceCited: citesGoldPlace(item, result.citations),
      clean: !result.answerable || isClean(result.answer),
      confidence: result.confidence,
      answer: result.answer,
    });
    onProgress?.(index + 1);
  }
  return summarize(outcomes);
}

type CitedPlace = Pick<Citation, 'source' | 'page' | 'headings'>;

/**
 * Whether the answer cites the gold document (or one accepted instead, or lists it among a citation's alternatives)
 * at the gold place: on the gold page when the item names one, under a heading containing the gold heading when it
 * names one (case and spacing ignored). An alternative carries a page but no heading path; it counts for the document.
 */
export function citesGoldPlace(item: Pick<EvaluationQuestion, 'document' | 'documents' | 'page' | 'heading'>, citations: readonly Citation[]): boolean {
  if (item.document === undefined) return false;
  const accepted = (source: string) => source === item.document || item.documents?.includes(source) === true;
  const squeeze = (text: string) => text.toLowerCase().replace(/\s+/g, '');
  const atPlace = (place: CitedPlace) =>
    (item.page === undefined || place.page === undefined || place.page === item.page) &&
    (item.heading === undefined || place.headings === undefined || place.headings.some((heading) => squeeze(heading).includes(squeeze(item.heading!))));
  return citations.some((citation) => [citation as CitedPlace, ...(citation.alternatives ?? [])].some((place) => accepted(place.source) && atPlace(place)));
}

/** Markup, entities, a URL cut at the end of a line, running headers and footers: what parsing must not leak. */
const leaks = [
  /&[a-z]+;|&#x?[0-9a-f]+;/i,
  /<\/?[a-z][a-z0-9-]*(\s[^>]*)?>/i,
  /\b(href|src|title|class)="/i,
  /<!--|-->/,
  /^\s*:::/m,
  /https?:\/?\/?$/im,
  /This publication is available free of charge/i,
  /\[Page \d+\]|^RFC \d+ {2,}/m,
];

export function isClean(answer: string): boolean {
  return !leaks.some((pattern) => pattern.test(answer));
}

function rate(values: readonly boolean[]): number {
  return Math.round(mean(values.map((value) => (value ? 1 : 0))) * 1000) / 1000;
}

export function summarize(outcomes: QuestionOutcome[]): QuestionReport {
  const answerable = outcomes.filter((outcome) => outcome.answerable);
  const unanswerable = outcomes.filter((outcome) => !outcome.answerable);
  const refused = outcomes.filter((outcome) => outcome.refused);
  const multiTurn = answerable.filter((outcome) => outcome.kind === 'multi-turn');
  const withPage = answerable.filter((outcome) => outcome.pageHit !== undefined);
  const byLanguage: QuestionReport['by_language'] = {};
  for (const language of ['en', 'zh']) {
    const inLanguage = outcomes.filter((outcome) => outcome.language === language);
    byLanguage[language] = {
      'hit@5': rate(inLanguage.filter((outcome) => outcome.answerable).map((outcome) => outcome.hitAt5)),
      answer_containment: rate(inLanguage.filter((outcome) => outcome.answerable).map((outcome) => outcome.contains)),
      refusal_recall: rate(inLanguage.filter((outcome) => !outcome.answerable).map((outcome) => outcome.refused)),
    };
  }
  return {
    questions: outcomes.length,
    answerable: answerable.length,
    unanswerable: unanswerable.length,
    'hit@1': rate(answerable.map((outcome) => outcome.hitAt1)),
    'hit@5': rate(answerable.map((outcome) => outcome.hitAt5)),
    page_hit: rate(withPage.map((outcome) => outcome.pageHit === true)),
    answered: rate(answerable.map((outcome) => !outcome.refused)),
    answer_containment: rate(answerable.map((outcome) => outcome.contains)),
    answer_correct_with_source: rate(answerable.map((outcome) => outcome.contains && outcome.sourceCited)),
    clean: rate(outcomes.filter((outcome) => !outcome.refused).map((outcome) => outcome.clean)),
    refusal_precision: refused.length === 0 ? 0 : rate(refused.map((outcome) => !outcome.answerable)),
    refusal_recall: rate(unanswerable.map((outcome) => outcome.refused)),
    multi_turn_passed: `${multiTurn.filter((outcome) => outcome.hitAt5 && outcome.contains).length}/${multiTurn.length}`,
    by_language: byLanguage,
    outcomes,
  };
}
