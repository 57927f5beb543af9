// The built-in extractive answerer: picks the retrieved sentences that contain most of the question's weighted
// content words, keeps them in source order, cites each with [n], and stays short. A table row comes with its
// header row, so "E-104 | 45 min" still says what the columns are.
import { wordPresent, type WordWeight } from '../retrieve/answerability.ts';
import type { RetrievedChunk } from '../retrieve/retriever.ts';
import { splitSentences } from '../text/sentences.ts';
import { countTokens, normalize, tokenize } from '../text/tokenize.ts';

/** Most sentences in an answer (1..5). */
const MAX_SENTENCES = 3;
/** Token budget of an answer (a CJK character or a Latin word is one token), 40..300. */
const MAX_ANSWER_TOKENS = 120;
/** A further sentence joins the best one only if it scores at least this share of the best score (0..1). */
const SECONDARY_SENTENCE_RATIO = 0.6;
/** How many top chunks sentences are drawn from (1..10). */
const SOURCE_CHUNKS = 3;

interface Candidate {
  chunkIndex: number;
  position: number;
  text: string;
  score: number;
}

function tableHeader(chunkText: string, rowStart: number): string | undefined {
  const lines = chunkText.slice(0, rowStart).split('\n');
  let header: string | undefined;
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!.trim();
    if (!line.includes(' | ')) break;
    header = line;
  }
  return header;
}

export function extractAnswer(context: readonly RetrievedChunk[], weights: readonly WordWeight[]): { text: string; usedChunks: number[] } {
  const total = weights.reduce((sum, item) => sum + item.weight, 0) || 1;
  const candidates: Candidate[] = [];
  context.slice(0, SOURCE_CHUNKS).forEach((chunk, chunkIndex) => {
    for (const sentence of splitSentences(chunk.text)) {
      const terms = new Set(tokenize(sentence.text));
      const text = normalize(sentence.text);
      let found = 0;
      for (const item of weights) if (wordPresent(item.word, terms, text)) found += item.weight;
      if (found === 0) continue;
      // Earlier chunks are more trusted; very long sentences are slightly penalised to keep answers short.
      const tokens = countTokens(sentence.text);
      const score = found / total - chunkIndex * 0.05 - (tokens > 60 ? 0.05 : 0);
      let display = sentence.text;
      if (display.includes(' | ')) {
        const header = tableHeader(chunk.text, sentence.start);
        if (header && header !== display) display = `${header}\n${display}`;
      }
      candidates.push({ chunkIndex, position: sentence.start, text: display, score });
    }
  });
  if (candidates.length === 0) {
    const first = context[0];
    if (!first) return { text: '', usedChunks: [] };
    const sentence = splitSentences(first.text)[0]?.text ?? first.text.slice(0, 200);
    return { text: `${sentence} [1]`, usedChunks: [0] };
  }
  const ranked = [...candidates].sort((left, right) => right.score - left.score);
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
  chosen.sort((left, right) => left.chunkIndex - right.chunkIndex || left.position - right.position);
  const text = chosen.map((candidate) => `${candidate.text} [${candidate.chunkIndex + 1}]`).join(chosen.some((candidate) => candidate.text.includes('\n')) ? '\n' : ' ');
  return { text, usedChunks: [...new Set(chosen.map((candidate) => candidate.chunkIndex))] };
}
