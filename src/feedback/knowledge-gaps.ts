// Knowledge gaps: the questions the knowledge base could not answer well (refused, or answered with a low
// confidence), grouped by what they ask, so that the team sees which documents are missing: "VPN on Linux" asked
// twelve ways is one gap with a count, not twelve lines of a log.
import type { AnswerLog } from '../components.ts';
import { questionTerms, termSimilarity } from '../text/question-similarity.ts';
import type { ConversationRecord } from './feedback-store.ts';

/** Questions whose content words overlap this much (Jaccard) ask the same thing. Range 0.3..0.8. */
const SAME_GAP_SIMILARITY = 0.5;
/**
 * An answer given with a confidence less than this above the answer threshold is a weak one (the threshold itself
 * separates answers from refusals). Range 0.05..0.3.
 */
export const LOW_CONFIDENCE_MARGIN = 0.15;
/** A gap keeps this many of its most recent questions as examples. */
const EXAMPLES_PER_GAP = 3;
/** Answers looked at, newest first: enough for months of a help desk's gaps, bounded in memory. */
const MAXIMUM_ANSWERS_READ = 5000;
const PAGE = 500;

export interface KnowledgeGap {
  /** The most recent question of the group, as its name. */
  question: string;
  count: number;
  refused: number;
  lowConfidence: number;
  lastAskedAt: string;
  examples: { answerId: string; question: string; createdAt: string; confidence?: number; refused: boolean }[];
}

/** Gaps since a time, largest first. `answerThreshold` is KB_ANSWER_THRESHOLD: below it an answer was refused. */
export async function knowledgeGaps(log: AnswerLog, options: { since?: string; collection?: string; answerThreshold: number; limit: number }): Promise<KnowledgeGap[]> {
  const weakBelow = options.answerThreshold + LOW_CONFIDENCE_MARGIN;
  const weak: ConversationRecord[] = [];
  for (let offset = 0; offset < MAXIMUM_ANSWERS_READ; offset += PAGE) {
    const { conversations } = await log.listConversations({
      limit: PAGE,
      offset,
      ...(options.since ? { since: options.since } : {}),
      ...(options.collection ? { collection: options.collection } : {}),
    });
    for (const entry of conversations) {
      // Small talk is neither a gap nor an answer.
      if (entry.kind === 'smalltalk') continue;
      if (entry.kind === 'not_found' || !entry.answerable || (entry.confidence !== undefined && entry.confidence < weakBelow)) weak.push(entry);
    }
    if (conversations.length < PAGE) break;
  }
  const groups: { terms: Set<string>; entries: ConversationRecord[] }[] = [];
  for (const entry of weak) {
    const terms = questionTerms(entry.question);
    if (terms.size === 0) continue;
    let best: (typeof groups)[number] | undefined;
    let bestSimilarity = 0;
    for (const group of groups) {
      const value = termSimilarity(terms, group.terms);
      if (value >= SAME_GAP_SIMILARITY && value > bestSimilarity) {
        best = group;
        bestSimilarity = value;
      }
    }
    if (best) best.entries.push(entry);
    else groups.push({ terms, entries: [entry] });
  }
  return groups
    .map((group) => {
      const refused = group.entries.filter((entry) => entry.kind === 'not_found' || !entry.answerable).length;
      return {
        question: group.entries[0]!.question,
        count: group.entries.length,
        refused,
        lowConfidence: group.entries.length - refused,
        lastAskedAt: group.entries[0]!.createdAt,
        examples: group.entries.slice(0, EXAMPLES_PER_GAP).map((entry) => ({
          answerId: entry.id,
          question: entry.question,
          createdAt: entry.createdAt,
          ...(entry.confidence !== undefined ? { confidence: entry.confidence } : {}),
          refused: entry.kind === 'not_found' || !entry.answerable,
        })),
      };
    })
    .sort((a, b) => b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt))
    .slice(0, options.limit);
}
