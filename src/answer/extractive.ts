// The built-in extractive answerer: from the retrieval's sentence evidence (sentences and table rows of the top
// chunks scored by how much of the question they state, see retrieve/answerability.ts) it picks the best one to
// three, keeps them in source order, cites each with [n], and stays short. Table rows sharing a header show it once.
import { analyze, wordPresence, type SentenceEvidence, type WordWeight } from '../retrieve/answerability.ts';
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
/**
 * Short sentences (together at most this many tokens, 0..40) that open a picked sentence's paragraph on the same line
 * come with it: they carry the yes/no or the name the rest goes on about ("可以。您可以使用 cron-apt；…", "Central
 * Incident Response Team. A single team…").
 */
const LEAD_SENTENCE_TOKENS = 20;
/** Score lost per rank of the chunk a sentence comes from (0..0.2): earlier chunks are more trusted. */
const CHUNK_RANK_PENALTY = 0.04;
/** Weight of the sentence's own coverage (0..0.5): under a heading that names the topic, the row that names it too wins. */
const OWN_COVERAGE_BONUS = 0.1;
/** Score lost by a sentence of more than 60 tokens (0..0.2): short answers read better. */
const LONG_SENTENCE_PENALTY = 0.05;
/**
 * Score gained (0..0.2) by the sentence that defines a word of a definition question ("哪些个人信息属于敏感个人信息？" →
 * 「敏感个人信息是…包括生物识别…」): it answers where sentences that merely use the word do not. Above the long-sentence
 * penalty, because definitions in laws and standards are long.
 */
const DEFINITION_BONUS = 0.1;

/** Questions that ask what something is or which things belong to it. */
const definitionQuestion = /(什么是|是什么|是指什么|指什么|哪些|含义|定义)|^\s*(what|which)\s+(is|are)\b|\b(mean|meaning|means|define|definition)\b/iu;

/** Whether a sentence defines one of the question's words: "X是/指/包括…", "X is/are/means/refers to …" near its start. */
function definesQuestionWord(sentence: string, weights: readonly WordWeight[]): boolean {
  const text = normalize(sentence);
  return weights.some(({ word }) => {
    if (word.cjk) return Array.from(word.word).length >= 2 && new RegExp(`${word.word}[，,]?(是|指|包括)`, 'u').test(text);
    const subject = text.match(/^(.{0,80}?)\s(is|are|means|refers to)\s/u)?.[1];
    return subject !== undefined && analyze(subject).terms.has(word.terms[0]!);
  });
}

interface Candidate {
  chunkIndex: number;
  position: number;
  text: string;
  score: number;
  /** Shown without its own [n]: a command after the sentence that introduces (and cites) it, kept copyable. */
  uncited?: boolean;
}

/** A procedure longer than this many tokens (100..500) is cut after the last whole step that fits, with "…". */
const MAX_PROCEDURE_TOKENS = 260;
/** Most steps of a procedure shown in an answer (5..30). */
const MAX_PROCEDURE_STEPS = 15;

const isTableRow = (line: string) => line.includes(' | ');
/** A sentence that announces a command, a list or a table right after it. */
const introducesBlock = /([:：]|(请|须|需要)?(执行|运行|输入)|\b(run|type|enter|execute)\b)\s*$/iu;
const listItem = /^\s*(\d{1,3}[.)、]|[-*•])\s*\S/u;

/**
 * The whole numbered or bulleted list that contains a position of a chunk's text, as { start, text }: a procedure
 * answered with steps 1, 2 and 4 (the three best-scoring sentences) cannot be followed.
 */
function listAround(chunkText: string, position: number): { start: number; text: string } | undefined {
  const lines: { start: number; text: string }[] = [];
  let offset = 0;
  for (const line of chunkText.split('\n')) {
    lines.push({ start: offset, text: line });
    offset += line.length + 1;
  }
  const index = lines.findIndex((line, at) => position >= line.start && (at === lines.length - 1 || position < lines[at + 1]!.start));
  if (index < 0 || !listItem.test(lines[index]!.text)) return undefined;
  let first = index;
  let last = index;
  while (first > 0 && listItem.test(lines[first - 1]!.text)) first--;
  while (last < lines.length - 1 && listItem.test(lines[last + 1]!.text)) last++;
  if (first === last) return undefined;
  const steps: string[] = [];
  let tokens = 0;
  for (const line of lines.slice(first, Math.min(last + 1, first + MAX_PROCEDURE_STEPS))) {
    tokens += countTokens(line.text);
    if (tokens > MAX_PROCEDURE_TOKENS && steps.length > 0) break;
    steps.push(line.text.trim());
  }
  const cut = steps.length < last - first + 1;
  return { start: lines[first]!.start, text: steps.join('\n') + (cut ? '\n…' : '') };
}

/**
 * The heading a table row answer needs to be understood alone: the row's own section heading when it names something
 * the question asks about that the row and its header do not ("Property class 10.9" for "M12 | 120" asked as "torque
 * for M12 class 10.9"), else undefined.
 */
function qualifyingHeading(chunk: RetrievedChunk, rowText: string, weights: readonly WordWeight[]): string | undefined {
  const heading = chunk.headings.at(-1);
  if (!heading || heading === chunk.title) return undefined;
  const row = analyze(rowText);
  const under = analyze(heading);
  // Qualifiers are numbers and codes (a class, a model, a voltage); a topic word such as "fault" is not one.
  const qualifies = weights.some((item) => /\p{N}/u.test(item.word.word) && wordPresence(item.word, under.terms, under.normalized) > 0 && wordPresence(item.word, row.terms, row.normalized) === 0);
  return qualifies ? heading : undefined;
}

export function extractAnswer(context: readonly RetrievedChunk[], evidence: readonly SentenceEvidence[], weights: readonly WordWeight[] = [], question = ''): { text: string; usedChunks: number[] } {
  const asksDefinition = definitionQuestion.test(question);
  const candidates: Candidate[] = evidence.map((item) => ({
    chunkIndex: item.chunkIndex,
    position: item.position,
    text: item.text,
    score:
      item.coverage +
      OWN_COVERAGE_BONUS * item.ownCoverage -
      item.chunkIndex * CHUNK_RANK_PENALTY -
      (countTokens(item.text) > 60 ? LONG_SENTENCE_PENALTY : 0) +
      (asksDefinition && definesQuestionWord(item.text, weights) ? DEFINITION_BONUS : 0),
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
  for (const picked of [...chosen]) {
    if (isTableRow(picked.text) || listItem.test(picked.text)) continue;
    const chunkText = context[picked.chunkIndex]!.text;
    const lineStart = chunkText.lastIndexOf('\n', picked.position - 1) + 1;
    const leads = splitSentences(chunkText).filter((sentence) => sentence.start >= lineStart && sentence.start < picked.position);
    const leadTokens = leads.reduce((sum, sentence) => sum + countTokens(sentence.text), 0);
    if (leads.length === 0 || leads.length > 2 || leadTokens > LEAD_SENTENCE_TOKENS) continue;
    for (const lead of leads) {
      if (chosen.some((candidate) => candidate.chunkIndex === picked.chunkIndex && candidate.position === lead.start)) continue;
      chosen.push({ chunkIndex: picked.chunkIndex, position: lead.start, text: lead.text, score: 0 });
      tokens += countTokens(lead.text);
    }
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
  // A sentence that introduces what follows ("run:", 「请执行：」) brings the block after it: the command itself.
  for (const candidate of [...chosen]) {
    if (!introducesBlock.test(candidate.text) || isTableRow(candidate.text)) continue;
    const chunkText = context[candidate.chunkIndex]!.text;
    const after = candidate.position + candidate.text.length;
    const rest = chunkText.slice(after);
    const blockStart = after + (rest.length - rest.trimStart().length);
    const block = chunkText
      .slice(blockStart)
      .split(/\n\s*\n/)[0]!
      .trimEnd();
    if (!block || countTokens(block) > MAX_PROCEDURE_TOKENS) continue;
    if (chosen.some((other) => other.chunkIndex === candidate.chunkIndex && other.position === blockStart)) continue;
    chosen.push({ chunkIndex: candidate.chunkIndex, position: blockStart, text: block, score: candidate.score, ...(listItem.test(block) ? {} : { uncited: true }) });
  }
  // A step of a procedure brings the whole procedure, in order, in place of the steps that were picked one by one.
  for (const candidate of [...chosen]) {
    if (!chosen.includes(candidate) || !listItem.test(candidate.text)) continue;
    const chunkText = context[candidate.chunkIndex]!.text;
    const list = listAround(chunkText, candidate.position);
    if (!list) continue;
    const end = list.start + list.text.length;
    for (let index = chosen.length - 1; index >= 0; index--) {
      const other = chosen[index]!;
      if (other.chunkIndex === candidate.chunkIndex && other.position >= list.start && other.position <= end) chosen.splice(index, 1);
    }
    chosen.push({ chunkIndex: candidate.chunkIndex, position: list.start, text: list.text, score: candidate.score });
  }
  // A sentence picked on its own that a brought-in block or list already shows is not repeated after it.
  const inside = (inner: Candidate, outer: Candidate) =>
    inner !== outer &&
    inner.chunkIndex === outer.chunkIndex &&
    inner.position >= outer.position &&
    inner.position + inner.text.length <= outer.position + outer.text.length &&
    outer.text.length > inner.text.length;
  for (let index = chosen.length - 1; index >= 0; index--) if (chosen.some((outer) => inside(chosen[index]!, outer))) chosen.splice(index, 1);
  chosen.sort((left, right) => left.chunkIndex - right.chunkIndex || left.position - right.position);
  const lines: string[] = [];
  let lastHeader: string | undefined;
  let previous: Candidate | undefined;
  for (const candidate of chosen) {
    const [first, ...rest] = candidate.text.split('\n');
    // Sentences that follow each other in the source read as one passage with one citation, not "a [1] b [1]".
    const chunkText = context[candidate.chunkIndex]!.text;
    const follows =
      previous !== undefined &&
      previous.chunkIndex === candidate.chunkIndex &&
      !previous.uncited &&
      !candidate.uncited &&
      rest.length === 0 &&
      !previous.text.includes('\n') &&
      previous.position + previous.text.length <= candidate.position &&
      /^[ \t]*$/.test(chunkText.slice(previous.position + previous.text.length, candidate.position));
    previous = candidate;
    if (follows) {
      const citation = ` [${candidate.chunkIndex + 1}]`;
      const last = lines[lines.length - 1]!.slice(0, -citation.length);
      const joiner = /[\p{Script=Han}。；，：！？]$/u.test(last) ? '' : ' ';
      lines[lines.length - 1] = `${last}${joiner}${candidate.text}${citation}`;
      continue;
    }
    const heading = isTableRow(candidate.text) ? qualifyingHeading(context[candidate.chunkIndex]!, candidate.text, weights) : undefined;
    if (heading && !lines.includes(`${heading}:`)) {
      lines.push(`${heading}:`);
      lastHeader = undefined;
    }
    if (candidate.uncited) lines.push(candidate.text);
    else if (rest.length > 0 && first === lastHeader) lines.push(`${rest.join('\n')} [${candidate.chunkIndex + 1}]`);
    else lines.push(`${candidate.text} [${candidate.chunkIndex + 1}]`);
    lastHeader = rest.length > 0 ? first : undefined;
  }
  const text = lines.join(chosen.some((candidate) => candidate.text.includes('\n') || candidate.uncited) ? '\n' : ' ');
  return { text, usedChunks: [...new Set(chosen.map((candidate) => candidate.chunkIndex))] };
}
