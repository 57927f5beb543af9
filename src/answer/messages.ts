// Fixed, localized texts of the answerer. A refusal never contains invented text.
import type { Language } from '../text/language.ts';

export const refusalMessages: Record<Language, string> = {
  en: 'The knowledge base does not contain an answer to this question. Try rephrasing it, or contact the help desk.',
  zh: '知识库中没有找到这个问题的答案。请换一种问法，或联系服务台。',
};

export const fallbackNotes: Record<Language, string> = {
  en: 'The language model was unavailable; this answer was extracted from the sources.',
  zh: '语言模型暂不可用，以下答案直接摘自资料原文。',
};
