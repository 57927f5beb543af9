// The built-in extractive answerer: from the retrieval's sentence evidence (sentences and table rows of the top
// chunks scored by how much of the question they state, see retrieve/answerability.ts) it picks the best one to
// three, keeps them in source order, cites each with [n], and stays short. Table rows sharing a header show it once.
import type { SentenceEvidence } from '../retrieve/answerability.ts';
import type { RetrievedChunk } from '../retrieve/retriever.ts';
import { splitSentences } from '../text/sentences.ts';
import { countTokens, normalize } from '../text/tokenize.ts';

/** Most sentences in an answer (1..5). */
const MAX_SENTENCES = 3;
/** Token budget of an answer (a CJK character or a Latin word is one token), 40..300. */
const MAX_ANSWER_TOKENS = 120;
/** A further sentence joins the best one only if it scores at least this share of the best score (0..1). */
const SECONDARY_SENTENCE_RATIO = 0.75;
/**
 * An answer shorter than this many tokens (10..80) is extended with the sentence that follows its best sentence in
 * the same paragraph: "Error 809 means …" is usually followed by what to do about it.
 */
const MIN_ANSWER_TOKENS = 40;
/** Score lost per rank of the chunk a sentence comes from (0..0.2): earlier chunks are more trusted. */
const CHUNK_RANK_PENALTY = 0.04;
/** Weight of the sentence's own coverage (0..0.5): under a heading that names the topic, the row that names it too wins. */
const OWN_COVERAGE_BONUS = 0.1;
/** Score lost by a sentence of more than 60 tokens (0..0.2): short answers read better. */
const LONG_SENTENCE_PENALTY = 0.05;

interface Candidate {
  chunkIndex: number;
  position: number;
  text: string;
  score: number;
}

const isTableRow = (line: string) => line.includes(' | ');

export function extractAnswer(context: readonly RetrievedChunk[], evidence: readonly SentenceEvidence[]): { text: string; usedChunks: number[] } {
  const candidates: Candidate[] = evidence.map((item) => ({
    chunkIndex: item.chunkIndex,
    position: item.position,
    text: item.text,
    score: item.coverage + OWN_COVERAGE_BONUS * item.ownCoverage - item.chunkIndex * CHUNK_RANK_PENALTY - (countTokens(item.text) > 60 ? LONG_SENTENCE_PENALTY : 0),
  }));
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
