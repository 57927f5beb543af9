// Curated answers: a question and the answer the help-desk team reviewed (with its sources), matched before retrieval
// for the same or a paraphrased question, so that a thumbs-down turned into a correct answer stays corrected. Kept
// with the deployment's other state: a versioned JSON file in the data directory, or a table of the shared database.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KbError } from '../errors.ts';
import type { AnswerSource } from '../feedback/feedback-store.ts';
import { writeFileAtomic } from '../store/local-schema.ts';
import { contentWords } from '../text/tokenize.ts';

export interface CuratedAnswerInput {
  collection: string;
  question: string;
  answer: string;
  sources: AnswerSource[];
  /** The logged answer it was made from, when promoted from the conversation log. */
  fromAnswerId?: string;
}

export interface CuratedAnswer extends CuratedAnswerInput {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export interface CuratedAnswerStore {
  list(collection: string): Promise<CuratedAnswer[]>;
  get(collection: string, id: string): Promise<CuratedAnswer | undefined>;
  add(input: CuratedAnswerInput): Promise<CuratedAnswer>;
  update(collection: string, id: string, change: Pick<CuratedAnswerInput, 'question' | 'answer' | 'sources'>): Promise<CuratedAnswer | undefined>;
  remove(collection: string, id: string): Promise<boolean>;
}

/**
 * A question matches a curated one when their content words (English stems, Chinese words, codes; question words and
 * stop words left out) overlap this much (Jaccard): "How can I reset the VPN password?" and "How do I reset my VPN
 * password?" share all of theirs, "reset my Windows password" half. Range 0.6..1.
 */
export const CURATED_MATCH_SIMILARITY = 0.75;

function termsOf(question: string): Set<string> {
  return new Set(contentWords(question).flatMap((word) => word.terms));
}

/** The curated answer whose question is closest to `question`, if it is close enough. */
export function matchCurated(question: string, curated: readonly CuratedAnswer[]): { entry: CuratedAnswer; similarity: number } | undefined {
  const asked = termsOf(question);
  if (asked.size === 0) return undefined;
  let best: { entry: CuratedAnswer; similarity: number } | undefined;
  for (const entry of curated) {
    const known = termsOf(entry.question);
    let shared = 0;
    for (const term of asked) if (known.has(term)) shared++;
    const similarity = shared / (asked.size + known.size - shared);
    if (similarity >= CURATED_MATCH_SIMILARITY && (!best || similarity > best.similarity)) best = { entry, similarity };
  }
  return best;
}

const FORMAT_VERSION = 1;
const sourceSchema = z.object({ documentId: z.string(), title: z.string(), source: z.string(), page: z.number().int().optional() });
const fileSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  answers: z.array(
    z.object({
      id: z.string(),
      collection: z.string(),
      question: z.string(),
      answer: z.string(),
      sources: z.array(sourceSchema),
      fromAnswerId: z.string().optional(),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  ),
});

/** curated-answers.json in the data directory. */
export class FileCuratedAnswerStore implements CuratedAnswerStore {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'curated-answers.json');
  }

  private read(): CuratedAnswer[] {
    if (!existsSync(this.file)) return [];
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    if (!parsed.success) throw new KbError('KB_ERR_INDEX_CORRUPT', { dataDir: path.dirname(this.file), details: `curated-answers.json: ${parsed.error.issues[0]?.message}` });
    return parsed.data.answers;
  }

  private write(answers: CuratedAnswer[]): void {
    writeFileAtomic(this.file, JSON.stringify({ formatVersion: FORMAT_VERSION, answers }, null, 2));
  }

  async list(collection: string): Promise<CuratedAnswer[]> {
    return this.read().filter((entry) => entry.collection === collection);
  }

  async get(collection: string, id: string): Promise<CuratedAnswer | undefined> {
    return this.read().find((entry) => entry.collection === collection && entry.id === id);
  }

  async add(input: CuratedAnswerInput): Promise<CuratedAnswer> {
    const now = new Date().toISOString();
    const entry: CuratedAnswer = { ...input, id: randomUUID(), createdAt: now, updatedAt: now };
    this.write([...this.read(), entry]);
    return entry;
  }

  async update(collection: string, id: string, change: Pick<CuratedAnswerInput, 'question' | 'answer' | 'sources'>): Promise<CuratedAnswer | undefined> {
    const answers = this.read();
    const entry = answers.find((candidate) => candidate.collection === collection && candidate.id === id);
    if (!entry) return undefined;
    Object.assign(entry, change, { updatedAt: new Date().toISOString() });
    this.write(answers);
    return entry;
  }

  async remove(collection: string, id: string): Promise<boolean> {
    const answers = this.read();
    const kept = answers.filter((entry) => !(entry.collection === collection && entry.id === id));
    if (kept.length === answers.length) return false;
    this.write(kept);
    return true;
  }
}
