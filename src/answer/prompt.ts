// The prompt: numbered context, an answer only from it, in the question's language, with [n] citations, and a fixed
// token when the context does not hold the answer (so a refusal is structured, not prose to be guessed at).
import type { RetrievedChunk } from '../retrieve/retriever.ts';
import type { Language } from '../text/language.ts';
import type { ChatMessage } from './types.ts';

export const NO_ANSWER_TOKEN = 'NO_ANSWER';

/** Largest amount of context text per chunk sent to the model (characters). */
const MAX_CONTEXT_CHARACTERS_PER_CHUNK = 2000;

const systemPrompts: Record<Language, string> = {
  en: [
    "You answer employees' questions using only the numbered context passages from the company knowledge base.",
    'Rules:',
    '- Answer in English, briefly (at most a few sentences or a short list).',
    '- After each statement, cite the passages it comes from as [n], using the passage numbers given.',
    '- Use only facts stated in the passages. Do not add outside knowledge.',
    `- If the passages do not contain the answer, reply with exactly ${NO_ANSWER_TOKEN} and nothing else.`,
  ].join('\n'),
  zh: [
    '你根据公司知识库中带编号的资料片段回答员工的问题，只能使用这些片段中的内容。',
    '规则：',
    '- 用简体中文简短回答（几句话或一个简短列表）。',
    '- 每个陈述后用 [n] 标注出处，n 为片段编号。',
    '- 只使用片段中写明的事实，不要补充片段以外的知识。',
    `- 如果片段中没有答案，只回复 ${NO_ANSWER_TOKEN}，不要写其他内容。`,
  ].join('\n'),
};

export function describeLocation(chunk: Pick<RetrievedChunk, 'title' | 'headings' | 'page' | 'ocr'>): string {
  const parts = [chunk.title];
  const headings = chunk.headings.filter((heading) => heading !== chunk.title);
  if (headings.length > 0) parts.push(headings.join(' > '));
  if (chunk.page !== undefined) parts.push(`p. ${chunk.page}`);
  // The model is told, so that it reads a misrecognized character for what it is rather than quoting it as fact.
  if (chunk.ocr) parts.push('OCR');
  return parts.join(' — ');
}

export function buildMessages(question: string, language: Language, context: readonly RetrievedChunk[], history: readonly ChatMessage[]): ChatMessage[] {
  const passages = context.map((chunk, index) => `[${index + 1}] ${describeLocation(chunk)}\n${chunk.text.slice(0, MAX_CONTEXT_CHARACTERS_PER_CHUNK)}`).join('\n\n');
  const label = language === 'zh' ? { context: '资料片段', question: '问题' } : { context: 'Context passages', question: 'Question' };
  return [{ role: 'system', content: systemPrompts[language] }, ...history.slice(-6), { role: 'user', content: `${label.context}:\n\n${passages}\n\n${label.question}: ${question}` }];
}
