// Tokenization for the keyword index and for query analysis, Chinese and English alike.
// Latin text: NFKC, lower case, stop words dropped, Porter2 (Snowball English) stemming; codes such as "E-104" also yield "e104".
// CJK text: overlapping character bigrams (a run of one character yields that character), the baseline that needs no
// dictionary and never misses a word boundary; see docs/EVALUATION.md for the comparison with word segmentation.
import { stem as stemmer } from 'porter2';
import { runPattern, tokenUnitPattern } from './patterns.ts';
import { chineseStopwords, englishStopwords } from './stopwords.ts';

const hasLetter = /\p{L}/u;
const hasDigit = /\p{N}/u;

export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function latinTerms(compound: string, output: string[]): void {
  const parts = compound.split(/[-_./]/).filter((part) => part.length > 0);
  for (const part of parts) {
    if (englishStopwords.has(part)) continue;
    output.push(hasLetter.test(part) && !hasDigit.test(part) ? stemmer(part) : part);
  }
  // "E-104", "M8x1.25", "KB-2031": the joined form lets "E104" match "E-104".
  if (parts.length > 1 && hasLetter.test(compound) && hasDigit.test(compound)) output.push(parts.join(''));
}

function cjkTerms(run: string, output: string[]): void {
  const characters = Array.from(run);
  if (characters.length === 1) {
    output.push(characters[0]!);
    return;
  }
  for (let index = 0; index + 1 < characters.length; index++) output.push(characters[index]! + characters[index + 1]!);
}

/**
 * How CJK runs become index terms. bigram (default): overlapping character bigrams. jieba: the words of jieba's
 * search mode (@node-rs/jieba, its bundled dictionary). segmenter: ICU's dictionary words (Intl.Segmenter).
 * jieba+bigram: both. Measured on cmrc2018 and docs-corpus (docs/EVALUATION.md); an index must be rebuilt after a change.
 */
export type CjkTokenizer = 'bigram' | 'jieba' | 'segmenter' | 'jieba+bigram';
let cjkTokenizer: CjkTokenizer = 'bigram';
let jieba: { cutForSearch(text: string, hmm: boolean): string[] } | undefined;
const icuWords = new Intl.Segmenter('zh', { granularity: 'word' });

/** The Chinese tokenizer in use: an index records it, because its keyword index only matches queries tokenized alike. */
export function currentCjkTokenizer(): CjkTokenizer {
  return cjkTokenizer;
}

export async function setCjkTokenizer(mode: CjkTokenizer): Promise<void> {
  if (mode.startsWith('jieba') && !jieba) {
    const { Jieba } = await import('@node-rs/jieba');
    const { dict } = await import('@node-rs/jieba/dict.js');
    jieba = Jieba.withDict(dict);
  }
  cjkTokenizer = mode;
}

function cjkIndexTerms(run: string, output: string[]): void {
  if (cjkTokenizer === 'bigram') return cjkTerms(run, output);
  if (cjkTokenizer === 'segmenter') {
    for (const segment of icuWords.segment(run)) if (segment.isWordLike) output.push(segment.segment);
    return;
  }
  for (const word of jieba!.cutForSearch(run, true)) if (word.trim()) output.push(word);
  if (cjkTokenizer === 'jieba+bigram') cjkTerms(run, output);
}

/** Terms of a text for the BM25 index, in order, with repetitions. */
export function tokenize(text: string): string[] {
  const output: string[] = [];
  for (const match of normalize(text).matchAll(runPattern())) {
    if (match[1] !== undefined) cjkIndexTerms(match[1], output);
    else if (match[2] !== undefined) latinTerms(match[2], output);
  }
  return output;
}

/**
 * Adjacent pairs of Latin terms ("wing slipstream"), a cheap proximity feature: a chunk where the query's words stand
 * together outranks one where they are scattered. CJK text needs none (its terms are already bigrams). The space in a
 * pair term cannot occur in a word term, so the two never collide.
 */
export function latinPairs(text: string): string[] {
  const pairs: string[] = [];
  let previous: string | undefined;
  for (const match of normalize(text).matchAll(runPattern())) {
    if (match[1] !== undefined) {
      previous = undefined;
      continue;
    }
    const terms: string[] = [];
    latinTerms(match[2]!, terms);
    for (const term of terms) {
      if (previous !== undefined && previous !== term) pairs.push(`${previous} ${term}`);
      previous = term;
    }
  }
  return pairs;
}

/** What the keyword index stores for a text: its terms and their adjacent Latin pairs, with frequencies. */
export function indexTerms(text: string): Map<string, number> {
  return termFrequencies([...tokenize(text), ...latinPairs(text)]);
}

/** Query terms with weights: each term by its count, each adjacent pair by pairWeight (0 leaves pairs out). */
export function queryTerms(text: string, pairWeight: number): Map<string, number> {
  const weights = termFrequencies(tokenize(text));
  if (pairWeight > 0) for (const pair of latinPairs(text)) weights.set(pair, (weights.get(pair) ?? 0) + pairWeight);
  return weights;
}

/** Term → frequency. */
export function termFrequencies(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

const wordSegmenter = new Intl.Segmenter('zh', { granularity: 'word' });
const letterAndDigit = (text: string) => hasLetter.test(text) && hasDigit.test(text);

/**
 * The content words of a question, for answerability and sentence scoring, each with the index terms that witness
 * it in a text. Chinese runs are segmented with the ICU dictionary (Intl.Segmenter), then single characters are
 * joined to their neighbours, because ICU splits domain words it does not know ("锁|模|力", "点|检|卡"); a word's
 * terms are its bigrams, so a partly matching word earns partial credit. A Latin code such as "HL-600" or "M24" is
 * one word witnessed only by its joined form: "HL-400" must not count as evidence for "HL-600".
 */
export interface ContentWord {
  word: string;
  terms: string[];
  cjk: boolean;
  /** Letters and digits together: a model, part or fault code. */
  code: boolean;
}

/** Whether a term occurs in the indexed corpus; lets segmentation join characters only into words the corpus has. */
export type KnownTerm = (term: string) => boolean;

function cjkWords(run: string, isKnown?: KnownTerm): string[] {
  const groups: string[][] = [];
  let current: string[] = [];
  for (const segment of wordSegmenter.segment(run)) {
    const text = segment.segment;
    if (chineseStopwords.has(text)) {
      if (current.length > 0) groups.push(current);
      current = [];
      continue;
    }
    const single = Array.from(text).length === 1;
    const previousSingle = current.length > 0 && Array.from(current[current.length - 1]!).length === 1;
    // Join across the boundary only where the bigram spanning it exists in the corpus ("锁|模" yes, "机|长" no).
    const last = current.length > 0 ? Array.from(current[current.length - 1]!).pop()! : '';
    const spanning = last + Array.from(text)[0]!;
    if (current.length > 0 && (single || previousSingle) && (isKnown === undefined || isKnown(spanning))) current.push(text);
    else {
      if (current.length > 0) groups.push(current);
      current = [text];
    }
  }
  if (current.length > 0) groups.push(current);
  return groups.map((group) => group.join(''));
}

/** A Chinese question quantifier with its unit: 多少天, 几个月, 多少小时, 几岁. */
const questionedUnit = /(多少|几)个?(天|日|星期|周|月|年|小时|钟头|分钟|秒|次|岁|倍)/gu;

export function contentWords(text: string, isKnown?: KnownTerm): ContentWord[] {
  const seen = new Set<string>();
  const words: ContentWord[] = [];
  const add = (word: ContentWord) => {
    if (word.terms.length === 0 || seen.has(word.word)) return;
    seen.add(word.word);
    words.push(word);
  };
  // "What time does … open?" asks what "When does … open?" asks: "time" is part of the question word there, and a
  // text that gives the time rarely says "time" (「几点」 and 「时间」 are question words in the Chinese stop list).
  // Likewise the unit after 多少/几 names the kind of answer, not its topic: 「多少天内」 is answered by 「七日内」.
  const asked = normalize(text)
    .replace(/\bwhat time\b/g, 'when')
    .replace(questionedUnit, ' 多少 ');
  for (const match of asked.matchAll(runPattern())) {
    if (match[1] !== undefined) {
      for (const word of cjkWords(match[1], isKnown)) {
        const terms: string[] = [];
        cjkTerms(word, terms);
        add({ word, terms, cjk: true, code: false });
      }
    } else if (match[2] !== undefined) {
      const compound = match[2];
      if (letterAndDigit(compound)) {
        add({ word: compound, terms: [compound.split(/[-_./]/).join('')], cjk: false, code: true });
        continue;
      }
      for (const part of compound.split(/[-_./]/)) {
        if (!part || englishStopwords.has(part)) continue;
        add({ word: part, terms: [hasDigit.test(part) ? part : stemmer(part)], cjk: false, code: false });
      }
    }
  }
  return words;
}

/** Number of tokens in the chunker's sense: a CJK character or a Latin word/number each count as one. */
export function countTokens(text: string): number {
  let count = 0;
  for (const match of text.matchAll(tokenUnitPattern())) {
    if (match[0]) count++;
  }
  return count;
}
