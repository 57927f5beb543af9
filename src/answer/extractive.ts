// The built-in extractive answerer: picks the retrieved sentences that contain most of the question's weighted
// content words, keeps them in source order, cites each with [n], and stays short. Words that the chunk's title or
// heading path already carry count for every sentence under them ("锁模力 | 1600 kN" under "IM-160 注塑机"), and a
// table row is read and shown with its header row, so "E-104 | 45 min" still says what the columns are.
import { analyze, wordPresence, type WordWeight } from '../retrieve/answerability.ts';
import type { RetrievedChunk } from '../retrieve/retriever.ts';
import { splitSentences } from '../text/sentences.ts';
import { countTokens, normalize } from '../text/tokenize.ts';

/** Most sentences in an answer (1..5). */
const MAX_SENTENCES = 3;
/** Token budget of an answer (a CJK character or a Latin word is one token), 40..300. */
const MAX_ANSWER_TOKENS = 120;
/** A further sentence joins the best one only if it scores at least this share of the best score (0..1). */
const SECONDARY_SENTENCE_RATIO = 0.75;
/** How many top chunks sentences are drawn from (1..10). */
const SOURCE_CHUNKS = 3;
/**
 * An answer shorter than this many tokens (10..80) is extended with the sentence that follows its best sentence in
 * the same paragraph: "Error 809 means …" is usually followed by what to do about it.
 */
const MIN_ANSWER_TOKENS = 40;
/** Score lost per rank of the chunk a sentence comes from (0..0.2): earlier chunks are more trusted. */
const CHUNK_RANK_PENALTY = 0.04;

interface Candidate {
  chunkIndex: number;
  position: number;
  text: string;
  score: number;
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

export function extractAnswer(context: readonly RetrievedChunk[], weights: readonly WordWeight[]): { text: string; usedChunks: number[] } {
  const total = weights.reduce((sum, item) => sum + item.weight, 0) || 1;
  const candidates: Candidate[] = [];
  context.slice(0, SOURCE_CHUNKS).forEach((chunk, chunkIndex) => {
    const around = analyze([chunk.title, ...chunk.headings].join('\n'));
    const contextPresence = weights.map((item) => wordPresence(item.word, around.terms, around.normalized));
    for (const sentence of splitSentences(chunk.text)) {
      let display = sentence.text;
      if (isTableRow(display)) {
        const header = tableHeader(chunk.text, sentence.start);
        // A header row alone answers nothing; a data row is read together with its header.
        const nextLine = chunk.text.slice(sentence.end + 1).split('\n')[0] ?? '';
        if (header === undefined && isTableRow(nextLine)) continue;
        if (header !== undefined) display = `${header}\n${display}`;
      }
      const own = analyze(display);
      let found = 0;
      let ownFound = 0;
      weights.forEach((item, index) => {
        const presence = wordPresence(item.word, own.terms, own.normalized);
        ownFound += item.weight * presence;
        found += item.weight * Math.max(presence, contextPresence[index]!);
      });
      if (ownFound === 0) continue;
      const tokens = countTokens(sentence.text);
      const score = found / total - chunkIndex * CHUNK_RANK_PENALTY - (tokens > 60 ? 0.05 : 0);
      candidates.push({ chunkIndex, position: sentence.start, text: display, score });
    }
  });
  if (candidates.length === 0) {
    const first = context[0];
    if (!first) return { text: '', usedChunks: [] };
    const sentence = splitSentences(first.text)[0]?.text ?? first.text.slice(0, 200);
    return { text: `${sentence} [1]`, usedChunks: [0] };
  }
  const ranked = [...candidates].sort((left, right) => right.score - left.score || left.chunkIndex - right.chunkIndex || left.position - right.position);
  const best = ranked[0]!;
  const chosen: Candidate[] = [best];
  let tokens = countTokens(best.text);
  for (const candidate of ranked.slice(1)) {
    if (chosen.length >= MAX_SENTENCES) break;
    if (candidate.score < best.score * SECONDARY_SENTENCE_RATIO) break;
    const candidateTokens = countTokens(candidate.text);
    if (tokens + candidateTokens > MAX_ANSWER_TOKENS) continue;
    if (chosen.some((existing) => normalize(existing.text) === normalize(candidate.text))) continue;
    chosen.push(candidate);
    tokens += candidateTokens;
  }
  if (tokens < MIN_ANSWER_TOKENS && !isTableRow(best.text)) {
    const chunkText = context[best.chunkIndex]!.text;
    const following = splitSentences(chunkText).find((sentence) => sentence.start > best.position);
    const between = following ? chunkText.slice(best.position, following.start) : '';
    const sameParagraph = following !== undefined && !between.includes('\n\n') && !isTableRow(following.text);
    if (following && sameParagraph && !chosen.some((candidate) => candidate.chunkIndex === best.chunkIndex && candidate.position === following.start)) {
      chosen.push({ chunkIndex: best.chunkIndex, position: following.start, text: following.text, score: 0 });
    }
  }
  chosen.sort((left, right) => left.chunkIndex - right.chunkIndex || left.position - right.position);
  // Table rows that share a header show it once.
  const lines: string[] = [];
  let lastHeader: string | undefined;
  for (const candidate of chosen) {
    const [first, ...rest] = candidate.text.split('\n');
    if (rest.length > 0 && first === lastHeader) lines.push(`${rest.join('\n')} [${candidate.chunkIndex + 1}]`);
    else lines.push(`${candidate.text} [${candidate.chunkIndex + 1}]`);
    lastHeader = rest.length > 0 ? first : undefined;
  }
  const text = lines.join(chosen.some((candidate) => candidate.text.includes('\n')) ? '\n' : ' ');
  return { text, usedChunks: [...new Set(chosen.map((candidate) => candidate.chunkIndex))] };
}
