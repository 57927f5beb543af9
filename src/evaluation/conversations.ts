// Evaluation of conversations (docs-corpus/eval/conversations.jsonl): each conversation is asked turn by turn through
// the whole pipeline, with the history a client such as the widget sends (the earlier questions and the answers the
// service actually gave). A turn is right when it is the right kind of reply: an answer that cites the gold document
// and contains the expected fact, a refusal, or a small-talk reply without citations.
import { z } from 'zod';
import type { ChatMessage } from '../answer/types.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { READ_EVERYTHING } from '../retrieve/read-scope.ts';
import { readJsonLines } from './json-lines.ts';
import { containsAnswer } from './metrics.ts';

const turnSchema = z.discriminatedUnion('expect', [
  z.object({
    question: z.string().min(1),
    expect: z.literal('answer'),
    document: z.string().min(1),
    answers: z.array(z.string().min(1)).min(1),
    /** A genuine follow-up that needs the conversation ("And E-207?"); otherwise the turn stands alone. */
    followUp: z.boolean().optional(),
  }),
  z.object({ question: z.string().min(1), expect: z.literal('not_found') }),
  z.object({ question: z.string().min(1), expect: z.literal('smalltalk') }),
]);
export const conversationSchema = z.object({
  id: z.string(),
  language: z.enum(['en', 'zh', 'mixed']),
  turns: z.array(turnSchema).min(2).max(8),
});
export type EvaluationConversation = z.infer<typeof conversationSchema>;

export function readConversations(file: string): EvaluationConversation[] {
  return readJsonLines(file, conversationSchema);
}

export interface TurnOutcome {
  conversation: string;
  turn: number;
  question: string;
  expect: 'answer' | 'not_found' | 'smalltalk';
  /** A turn after another one that does not build on it. */
  topicSwitch: boolean;
  followUp: boolean;
  right: boolean;
  cited: boolean;
  kind: string;
  answer: string;
}

export interface ConversationReport {
  conversations: number;
  turns: number;
  turn_accuracy: number;
  topic_switch_turns: string;
  follow_up_turns: string;
  smalltalk_turns: string;
  smalltalk_cited: number;
  refusal_turns: string;
  outcomes: TurnOutcome[];
}

function passed(outcomes: readonly TurnOutcome[]): string {
  return `${outcomes.filter((outcome) => outcome.right).length}/${outcomes.length}`;
}

export async function evaluateConversations(knowledgeBase: KnowledgeBase, conversations: readonly EvaluationConversation[], onProgress?: (done: number) => void): Promise<ConversationReport> {
  const outcomes: TurnOutcome[] = [];
  for (const [index, conversation] of conversations.entries()) {
    const history: ChatMessage[] = [];
    for (const [turnIndex, turn] of conversation.turns.entries()) {
      const result = await knowledgeBase.ask({ question: turn.question, scope: READ_EVERYTHING, ...(history.length > 0 ? { history } : {}) });
      const cited = result.citations.length > 0;
      let right: boolean;
      if (turn.expect === 'answer') right = result.answerable && result.citations.some((citation) => citation.source === turn.document) && containsAnswer(result.answer, turn.answers);
      else if (turn.expect === 'not_found') right = !result.answerable && result.kind === 'not_found' && !cited;
      else right = result.kind === 'smalltalk' && !cited;
      const followUp = turn.expect === 'answer' && turn.followUp === true;
      outcomes.push({
        conversation: conversation.id,
        turn: turnIndex + 1,
        question: turn.question,
        expect: turn.expect,
        topicSwitch: turnIndex > 0 && !followUp && turn.expect !== 'smalltalk',
        followUp,
        right,
        cited,
        kind: result.kind,
        answer: result.answer,
      });
      history.push({ role: 'user', content: turn.question }, { role: 'assistant', content: result.answer });
    }
    onProgress?.(index + 1);
  }
  const rate = (items: readonly TurnOutcome[]) => (items.length === 0 ? 0 : Math.round((items.filter((item) => item.right).length / items.length) * 1000) / 1000);
  const smallTalk = outcomes.filter((outcome) => outcome.expect === 'smalltalk');
  return {
    conversations: conversations.length,
    turns: outcomes.length,
    turn_accuracy: rate(outcomes),
    topic_switch_turns: passed(outcomes.filter((outcome) => outcome.topicSwitch)),
    follow_up_turns: passed(outcomes.filter((outcome) => outcome.followUp)),
    smalltalk_turns: passed(smallTalk),
    smalltalk_cited: smallTalk.filter((outcome) => outcome.cited).length,
    refusal_turns: passed(outcomes.filter((outcome) => outcome.expect === 'not_found')),
    outcomes,
  };
}
