// Messages that are not questions about the knowledge base: greetings, thanks, goodbyes, "who are you", test messages,
// acknowledgements, a bare emoji, a bare topic word. They get a short friendly reply in the user's language, no citations and
// `kind: "smalltalk"`, instead of a retrieval that finds something for any word ("thanks!" once returned a NIST
// acknowledgements section with confidence 1, "hi there" a Pinia code line).
// Only a message that is small talk as a whole counts: "hi, how do I reset my VPN password?" is a question.
import type { Language } from '../text/language.ts';
import { contentWords } from '../text/tokenize.ts';

export type SmallTalkKind = 'greeting' | 'thanks' | 'goodbye' | 'identity' | 'test' | 'acknowledgement' | 'empty' | 'keyword';

/** Each kind's phrases, matched against the whole message once punctuation, emoji and filler words are removed. */
const phrases: Record<Exclude<SmallTalkKind, 'empty' | 'keyword'>, RegExp> = {
  greeting:
    /^(hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon|evening|day)|morning|hi there|hello there|hey there|how are you( doing)?|how's it going|你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|早安|晚安|你好吗|在吗|在不在|有人吗)$/u,
  thanks:
    /^(thanks?( a lot| so much| very much)?|thank you( (so|very) much)?|thx|ty|cheers|many thanks|much appreciated|appreciated|great thanks|ok thanks|okay thanks|谢谢|谢谢你|谢谢您|多谢|感谢|非常感谢|太感谢了|谢了|好的谢谢|好的，谢谢)$/u,
  goodbye: /^(bye|goodbye|good bye|bye bye|see you|see ya|later|have a nice day|再见|拜拜|回头见|下次见)$/u,
  identity:
    /^(who are you|what are you|what can you do|what do you do|are you a (bot|robot|human)|are you human|what is your name|who made you|help|你是谁|你是什么|你能做什么|你可以做什么|你会什么|你叫什么|你叫什么名字|你是机器人吗|帮助)$/u,
  test: /^(test|testing|test test|just testing|测试|测试一下|试试|试一下)$/u,
  acknowledgement: /^(ok|okay|k|cool|nice|great|got it|i see|alright|fine|sure|yes|no|yep|nope|好|好的|嗯|嗯嗯|哦|哦哦|知道了|明白了|明白|行|可以|是的|对|不是)$/u,
};

/** Words that soften a message without making it a question ("hi there", "thanks again", "ok then"). */
const fillers = /\b(there|again|then|so|very|much|all|guys|team|bot|assistant)\b/gu;

function normalize(message: string): string {
  return message
    .toLowerCase()
    .replace(/[\p{P}\p{S}\p{Extended_Pictographic}\uFE0F\u200D]+/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** The kind of small talk a whole message is, or undefined for anything that may be a question. */
export function smallTalkKind(message: string): SmallTalkKind | undefined {
  const normalized = normalize(message);
  if (normalized.length === 0) return 'empty';
  if (normalized.length > 40) return undefined;
  const unfilled = normalized.replace(fillers, ' ').replace(/\s+/gu, ' ').trim();
  for (const [kind, pattern] of Object.entries(phrases) as [SmallTalkKind, RegExp][]) {
    if (pattern.test(normalized) || (unfilled.length > 0 && pattern.test(unfilled))) return kind;
  }
  return combinedKind(unfilled) ?? (bareKeyword(normalized) !== undefined ? 'keyword' : undefined);
}

/**
 * The word, when the whole message is one topic word and nothing else ("vpn", "password", 「年假」): too vague to answer
 * (any passage that names it would do, with confidence 1), so the reply asks what about it. Codes and numbers
 * ("E-104", "809") are not vague: a fault code alone asks for its row. A follow-up such as 「那年假呢？」 has more words.
 */
export function bareKeyword(message: string): string | undefined {
  const normalized = normalize(message);
  if (!/^(\p{Script=Latin}+|\p{Script=Han}{2,4})$/u.test(normalized)) return undefined;
  const words = contentWords(normalized);
  return words.length === 1 && !words[0]!.code && words[0]!.word === normalized ? normalized : undefined;
}

/** "Thank you, bye!", "ok thanks", "hi, thanks": several small-talk phrases in a row, named by the first. */
function combinedKind(message: string): SmallTalkKind | undefined {
  const words = message.split(' ');
  let first: SmallTalkKind | undefined;
  let start = 0;
  while (start < words.length) {
    let matched = 0;
    // The longest run of words from here that is one phrase.
    for (let end = words.length; end > start && matched === 0; end--) {
      const run = words.slice(start, end).join(' ');
      for (const [kind, pattern] of Object.entries(phrases) as [SmallTalkKind, RegExp][]) {
        if (pattern.test(run)) {
          first ??= kind;
          matched = end - start;
          break;
        }
      }
    }
    if (matched === 0) return undefined;
    start += matched;
  }
  return first;
}

const leadingPoliteness = /^\s*(hi|hello|hey|hi there|hello there|good (morning|afternoon|evening)|thanks|thank you|please|你好|您好|嗨|请问|麻烦问一下|打扰一下)(\s*[,，!！.。:：~～]\s*|\s+)(?=\S)/iu;

/** The question without a greeting before it ("hi, how do I…" → "how do I…"): the greeting is not what is asked. */
export function withoutLeadingPoliteness(question: string): string {
  return question.replace(leadingPoliteness, '');
}

export const smallTalkReplies: Record<SmallTalkKind, Record<Language, string>> = {
  greeting: {
    en: 'Hello! Ask me about equipment, fault codes, maintenance procedures, IT or HR policies, and I will answer from the knowledge base with its sources.',
    zh: '您好！可以问我设备、故障代码、维护流程、IT 或人事制度方面的问题，我会根据知识库回答并注明出处。',
  },
  thanks: { en: 'You are welcome! Ask me anything else about the knowledge base.', zh: '不客气！还有其他问题可以继续问我。' },
  goodbye: { en: 'Goodbye! Come back whenever you have a question.', zh: '再见！有问题随时来问。' },
  identity: {
    en: 'I am the help desk assistant: I answer questions from the company knowledge base (manuals, procedures, IT and HR policies) and cite the documents I use. Try a question such as "How do I fix VPN error 809?"',
    zh: '我是服务台助手：根据公司知识库（设备手册、维护流程、IT 和人事制度）回答问题，并注明引用的文档。例如可以问：“VPN 错误 809 怎么办？”',
  },
  test: { en: 'I am here and working. Ask me a question about the knowledge base.', zh: '我在，一切正常。请问一个关于知识库的问题。' },
  acknowledgement: { en: 'All right. Is there anything else I can look up for you?', zh: '好的。还有什么需要我查的吗？' },
  empty: { en: 'Please type a question, and I will look it up in the knowledge base.', zh: '请输入您的问题，我会在知识库中查找。' },
  keyword: {
    en: 'What would you like to know about “{word}”? Please ask a whole question (what to do, how, when, how much), and I will answer from the knowledge base.',
    zh: '您想了解“{word}”的哪方面？请把问题说完整（例如怎么做、什么时候、多少），我会根据知识库回答。',
  },
};

/** The reply to a small-talk message, in the user's language; a bare keyword is repeated in it. */
export function smallTalkReply(kind: SmallTalkKind, language: Language, message: string): string {
  return smallTalkReplies[kind][language].replace('{word}', bareKeyword(message) ?? message.trim());
}
