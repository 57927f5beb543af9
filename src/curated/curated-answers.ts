// Curated answers: a question and the answer the help-desk team reviewed (with its sources), matched before retrieval
// for the same or a paraphrased question, so that a thumbs-down turned into a correct answer stays corrected. Kept
// with the deployment's other state: a versioned JSON file in the data directory, or a table of the shared database.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import type { AnswerSource } from '../feedback/feedback-store.ts';
import { VersionedJsonFile } from '../store/versioned-json-file.ts';
import type { AnswerResult, Citation } from '../answer/types.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { mayRead, type ReadScope } from '../retrieve/read-scope.ts';
import { detectLanguage } from '../text/language.ts';
import { questionTerms, termSimilarity } from '../text/question-similarity.ts';

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

/** A curated question's terms, computed once per entry read (matching runs on every ask). */
const termsOfEntry = new WeakMap<CuratedAnswer, Set<string>>();

/** The curated answer whose question is closest to `question`, if it is close enough. */
export function matchCurated(question: string, curated: readonly CuratedAnswer[]): { entry: CuratedAnswer; similarity: number } | undefined {
  const asked = questionTerms(question);
  if (asked.size === 0) return undefined;
  let best: { entry: CuratedAnswer; similarity: number } | undefined;
  for (const entry of curated) {
    let known = termsOfEntry.get(entry);
    if (!known) termsOfEntry.set(entry, (known = questionTerms(entry.question)));
    const similarity = termSimilarity(asked, known);
    if (similarity >= CURATED_MATCH_SIMILARITY && (!best || similarity > best.similarity)) best = { entry, similarity };
  }
  return best;
}

/**
 * The curated answer for a question in the collections asked, as an answer result: given only when the caller may
 * read every source it cites that still exists (a curated answer never tells what a reader's groups may not read).
 */
export async function curatedAnswerFor(
  store: CuratedAnswerStore,
  asked: readonly { name: string; knowledgeBase: KnowledgeBase }[],
  question: string,
  scope: ReadScope,
): Promise<AnswerResult | undefined> {
  for (const { name, knowledgeBase } of asked) {
    const match = matchCurated(question, await store.list(name));
    if (!match) continue;
    const citations: Citation[] = [];
    for (const source of match.entry.sources) {
      const document = await knowledgeBase.storage.documents.getDocumentByKey(source.documentId);
      if (!document) continue;
      if (!mayRead(scope, document.groups)) return undefined;
      citations.push({
        n: citations.length + 1,
        documentId: source.documentId,
        title: document.title,
        source: document.source,
        ...(source.page !== undefined ? { page: source.page } : {}),
        ...(document.url ? { url: document.url } : {}),
        snippet: '',
        score: 1,
      });
    }
    return {
      answer: match.entry.answer,
      answerable: true,
      kind: 'answer',
      confidence: Math.round(match.similarity * 10000) / 10000,
      citations,
      language: detectLanguage(question),
      answeredBy: 'curated',
    };
  }
  return undefined;
}

const FORMAT_VERSION = 1;
const sourceSchema = z.object({ documentId: z.string(), title: z.string(), source: z.string(), page: z.number().int().optional() });
const fileSchema = z.object({
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

/**
 * curated-answers.json in the data directory. Read once and kept: every ask looks at it, and only this process's
 * API writes it (the embedded store serves one process).
 */
export class FileCuratedAnswerStore implements CuratedAnswerStore {
  private readonly file: VersionedJsonFile<{ answers: CuratedAnswer[] }>;
  private cached: CuratedAnswer[] | undefined;

  constructor(dataDir: string) {
    this.file = new VersionedJsonFile(path.join(dataDir, 'curated-answers.json'), fileSchema, FORMAT_VERSION);
  }

  private read(): CuratedAnswer[] {
    this.cached ??= this.file.read()?.answers ?? [];
    return this.cached.map((entry) => ({ ...entry }));
  }

  private write(answers: CuratedAnswer[]): void {
    this.file.write({ answers });
    this.cached = answers;
  }

  async list(collection: string): Promise<CuratedAnswer[]> {
    // The cached entries themselves: matching memoizes their terms by identity.
    this.read();
    return this.cached!.filter((entry) => entry.collection === collection);
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
