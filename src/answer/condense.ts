// Follow-up questions ("what about the second step?", "那第二步呢？") are rewritten into a standalone query before
// retrieval: by the LLM when one is configured, otherwise deterministically by carrying the previous question's
// content words over when the follow-up is short or refers back.
import { describeError } from '../errors.ts';
import { detectLanguage } from '../text/language.ts';
import { contentWords } from '../text/tokenize.ts';
import { runPattern } from '../text/patterns.ts';
import type { ChatMessage, LanguageModel } from './types.ts';

/** A follow-up with at most this many content words is read as depending on the previous question (1..10). */
const SHORT_FOLLOW_UP_WORDS = 4;
const referringBack =
  /\b(it|its|that|this|those|these|they|them|same|step|second|third|next|previous|above|also|what about|how about|and)\b|那|这|它|其|上述|该|第[一二三四五六七八九十\d]+|呢|还有|另外|那么/i;

/** The question points back into the conversation ("it", "and …?", "what about", 「那…呢」「它」). */
export function refersBack(question: string): boolean {
  return referringBack.test(question);
}

/** Identifiers in a text as written ("M-05", "HL-400", "E104"): words with both letters and digits. */
function identifiers(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(runPattern())) {
    const word = match[2];
    if (word && /\p{L}/u.test(word) && /\p{N}/u.test(word)) found.push(word);
  }
  return found;
}

/** How a question relates to the conversation: on its own, the previous question about another identifier, or merged. */
export interface FollowUp {
  query: string;
  kind: 'standalone' | 'identifier-swap' | 'merged';
}

export function condenseDeterministic(question: string, history: readonly ChatMessage[]): string {
  return readFollowUp(question, history).query;
}

export function readFollowUp(question: string, history: readonly ChatMessage[]): FollowUp {
  const standalone: FollowUp = { query: question, kind: 'standalone' };
  const previousQuestion = [...history].reverse().find((message) => message.role === 'user')?.content;
  if (!previousQuestion) return standalone;
  const words = contentWords(question);
  // "And E-207?" after "What does E-104 mean on the HL-400?": the same question about another identifier.
  const newIdentifiers = identifiers(question);
  const oldIdentifiers = identifiers(previousQuestion).filter((identifier) => !newIdentifiers.includes(identifier));
  // Only when the question says nothing else new: 「注塑机报警 M-05 是什么意思？」 after a question about M12 bolts is a
  // new question that happens to name an identifier of the same letter.
  const previousWords = new Set(contentWords(previousQuestion).map((word) => word.word));
  const saysNothingElse = words.every((word) => word.code || previousWords.has(word.word));
  if (newIdentifiers.length === 1 && oldIdentifiers.length > 0 && saysNothingElse && words.length <= SHORT_FOLLOW_UP_WORDS) {
    const replaced = oldIdentifiers.find((identifier) => sameKind(identifier, newIdentifiers[0]!));
    if (replaced) return { query: previousQuestion.split(replaced).join(newIdentifiers[0]!), kind: 'identifier-swap' };
  }
  if (words.length > SHORT_FOLLOW_UP_WORDS && !referringBack.test(question)) return standalone;
  if (words.length > SHORT_FOLLOW_UP_WORDS * 2) return standalone;
  return { query: `${previousQuestion} ${question}`, kind: 'merged' };
}

/** Two identifiers of the same family: same letter prefix ("M-05" and "M-12", "E-104" and "E207"). */
function sameKind(left: string, right: string): boolean {
  const prefix = (identifier: string) => /^\p{L}*/u.exec(identifier.toUpperCase())?.[0] ?? '';
  return prefix(left) === prefix(right);
}

export async function condenseQuestion(question: string, history: readonly ChatMessage[], model: LanguageModel | undefined, onError?: (message: string) => void): Promise<string> {
  if (history.length === 0) return question;
  if (!model) return condenseDeterministic(question, history);
  const zh = detectLanguage(question) === 'zh';
  const transcript = history
    .slice(-6)
    .map((message) => `${message.role === 'user' ? 'User' : 'Assistant'}: ${message.content.slice(0, 500)}`)
    .join('\n');
  // The same rule as without a model: history only for a question that depends on it; a new topic stays as asked.
  const instruction = zh
    ? '根据对话，把最后一个问题改写成一个不依赖上下文、可以单独检索的完整问题。如果最后一个问题本身已经完整（换了新话题，或不指代前文），原样输出，不要加入前文的内容。只输出问题。'
    : 'Rewrite the last question as a standalone question that can be understood without the conversation. If the last question is already complete on its own (a new topic, or it does not refer back to the conversation), output it unchanged, without adding anything from earlier turns. Output only the question.';
  try {
    const rewritten = await model.generate(
      [
        { role: 'system', content: instruction },
        { role: 'user', content: `${transcript}\nUser: ${question}` },
      ],
      { maxTokens: 120, temperature: 0 },
    );
    const cleaned = rewritten.trim().split('\n')[0]?.trim() ?? '';
    return cleaned.length > 0 && cleaned.length < 500 ? cleaned : condenseDeterministic(question, history);
  } catch (error) {
    onError?.(`question condensing fell back to the deterministic method: ${describeError(error)}`);
    return condenseDeterministic(question, history);
  }
}
