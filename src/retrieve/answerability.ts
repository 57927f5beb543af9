// Answerability from the retrieval evidence: how much of the question's content (weighted by rarity) one sentence of
// the best chunks states. Out-of-scope questions ask about things the corpus never mentions ("CEO salary", "年终奖"),
// so their rare words are missing; in-scope ones find most of them together, in one sentence or table row.
//   weight(word)      = idf of the word (a CJK word's document frequency is that of its rarest bigram)
//   coverage(s)       = Σ weight(word) · presence(word in s, or in the title/heading path above s) / Σ weight(word)
//   confidence        = max over the sentences of the top chunks of coverage(s)
// Sentence level rather than chunk level: a chunk that mentions the words in different places usually does not
// answer (measured in docs/EVALUATION.md). The extractive answerer picks its sentences from the same evidence.
import { inverseDocumentFrequency } from './bm25.ts';
import { splitSentences } from '../text/sentences.ts';
import { normalize, tokenize, type ContentWord } from '../text/tokenize.ts';

/** A single CJK character carries little evidence on its own (it may be part of anything). */
const SINGLE_CJK_CHARACTER_WEIGHT = 0.3;
/**
 * Identifiers (model, part and fault codes) weigh this many times their IDF, 1..4: asking about "HL-600" or "M24"
 * when the corpus knows only "HL-400" and "M20" is the typical out-of-scope question, and a matching code is the
 * strongest evidence of an in-scope one.
 */
const CODE_WEIGHT_FACTOR = 2;

export interface WordWeight {
  word: ContentWord;
  weight: number;
}

export function weighWords(words: readonly ContentWord[], documentFrequency: (term: string) => number, documentCount: number): WordWeight[] {
  return words.map((word) => {
    if (word.cjk && Array.from(word.word).length === 1) return { word, weight: SINGLE_CJK_CHARACTER_WEIGHT };
    // The word's rarest term sets its weight: a word is as informative as its most specific part.
    const frequency = Math.min(...word.terms.map(documentFrequency));
    const idf = inverseDocumentFrequency(frequency, Math.max(documentCount, 1));
    return { word, weight: word.code ? idf * CODE_WEIGHT_FACTOR : idf };
  });
}

/** Share (0..1) of the word's terms found in a text: its tokenized terms, or the normalized text for CJK. */
export function wordPresence(word: ContentWord, textTerms: ReadonlySet<string>, normalizedText: string): number {
  if (word.cjk && word.terms.length === 1 && Array.from(word.terms[0]!).length === 1) return normalizedText.includes(word.word) ? 1 : 0;
  let found = 0;
  for (const term of word.terms) if (textTerms.has(term) || (word.cjk && normalizedText.includes(term))) found++;
  return found / word.terms.length;
}

export interface AnalyzedText {
  terms: Set<string>;
  normalized: string;
}

export function analyze(text: string): AnalyzedText {
  return { terms: new Set(tokenize(text)), normalized: normalize(text) };
}

export interface EvidenceChunk {
  text: string;
  title: string;
  headings: string[];
}

export interface SentenceEvidence {
  /** Index of the chunk in the retrieval result. */
  chunkIndex: number;
  /** Offset of the sentence in the chunk text. */
  position: number;
  /** The sentence, or a table row preceded by its header row. */
  text: string;
  /** Weighted share of the question found in the sentence or the title and headings above it (0..1). */
  coverage: number;
  /** The same share counting the sentence alone: among sentences under one heading, it tells them apart. */
  ownCoverage: number;
}

const isTableRow = (line: string) => line.includes(' | ');

/** The header row of the table a row belongs to: the first line of its block of " | " lines. */
function tableHeader(chunkText: string, rowStart: number): string | undefined {
  const lines = chunkText.slice(0, rowStart).split('\n');
  lines.pop(); // the part of the row's own line before it (empty)
  let header: string | undefined;
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!.trim();
    if (!isTableRow(line)) break;
    header = line;
  }
  return header;
}

/**
 * Every sentence of the chunks that states at least one of the question's words, with its coverage. Words that the
 * chunk's title or heading path carry count for every sentence under it ("锁模力 | 1600 kN" under "IM-160 注塑机"); a
 * table row is read with its header row, and a header row alone is no evidence.
 */
export function sentenceEvidence(chunks: readonly EvidenceChunk[], weights: readonly WordWeight[]): SentenceEvidence[] {
  const total = weights.reduce((sum, item) => sum + item.weight, 0);
  if (total === 0) return [];
  const evidence: SentenceEvidence[] = [];
  chunks.forEach((chunk, chunkIndex) => {
    const around = analyze([chunk.title, ...chunk.headings].join('\n'));
    const aroundPresence = weights.map((item) => wordPresence(item.word, around.terms, around.normalized));
    for (const sentence of splitSentences(chunk.text)) {
      let text = sentence.text;
      if (isTableRow(text)) {
        const header = tableHeader(chunk.text, sentence.start);
        const nextLine = chunk.text.slice(sentence.end + 1).split('\n')[0] ?? '';
        if (header === undefined && isTableRow(nextLine)) continue;
        if (header !== undefined) text = `${header}\n${text}`;
      }
      const own = analyze(text);
      let found = 0;
      let ownFound = 0;
      weights.forEach((item, index) => {
        const presence = wordPresence(item.word, own.terms, own.normalized);
        ownFound += item.weight * presence;
        found += item.weight * Math.max(presence, aroundPresence[index]!);
      });
      if (ownFound > 0) evidence.push({ chunkIndex, position: sentence.start, text, coverage: found / total, ownCoverage: ownFound / total });
    }
  });
  return evidence;
}
