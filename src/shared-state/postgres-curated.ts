// Curated answers in the shared database (curated/curated-answers.ts).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { CuratedAnswer, CuratedAnswerInput, CuratedAnswerStore } from '../curated/curated-answers.ts';
import type { AnswerSource } from '../feedback/feedback-store.ts';
import { SHARED_POLL_MS, SHARED_SCHEMA } from './postgres.ts';

interface CuratedRow {
  id: string;
  collection: string;
  question: string;
  answer: string;
  sources: AnswerSource[];
  from_answer_id: string | null;
  created_at: Date;
  updated_at: Date;
}

function toCurated(row: CuratedRow): CuratedAnswer {
  return {
    id: row.id,
    collection: row.collection,
    question: row.question,
    answer: row.answer,
    sources: row.sources,
    ...(row.from_answer_id ? { fromAnswerId: row.from_answer_id } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Every ask looks at its collection's curated answers: they are read at most once a SHARED_POLL_MS per collection, so
 * an answer another node added or changed is given here within that time (this node's own changes at once).
 */
export class PostgresCuratedAnswerStore implements CuratedAnswerStore {
  private readonly cache = new Map<string, { readAt: number; entries: Promise<CuratedAnswer[]> }>();

  constructor(private readonly pool: pg.Pool) {}

  async list(collection: string): Promise<CuratedAnswer[]> {
    const cached = this.cache.get(collection);
    if (cached && performance.now() - cached.readAt < SHARED_POLL_MS) return cached.entries;
    const entries = this.pool.query<CuratedRow>(`SELECT * FROM ${SHARED_SCHEMA}.curated_answers WHERE collection = $1 ORDER BY created_at`, [collection]).then(({ rows }) => rows.map(toCurated));
    this.cache.set(collection, { readAt: performance.now(), entries });
    entries.catch(() => this.cache.delete(collection));
    return entries;
  }

  async get(collection: string, id: string): Promise<CuratedAnswer | undefined> {
    const { rows } = await this.pool.query<CuratedRow>(`SELECT * FROM ${SHARED_SCHEMA}.curated_answers WHERE collection = $1 AND id::text = $2`, [collection, id]);
    return rows[0] ? toCurated(rows[0]) : undefined;
  }

  async add(input: CuratedAnswerInput): Promise<CuratedAnswer> {
    const { rows } = await this.pool.query<CuratedRow>(
      `INSERT INTO ${SHARED_SCHEMA}.curated_answers (id, collection, question, answer, sources, from_answer_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now()) RETURNING *`,
      [randomUUID(), input.collection, input.question, input.answer, JSON.stringify(input.sources), input.fromAnswerId ?? null],
    );
    this.cache.delete(input.collection);
    return toCurated(rows[0]!);
  }

  async update(collection: string, id: string, change: Pick<CuratedAnswerInput, 'question' | 'answer' | 'sources'>): Promise<CuratedAnswer | undefined> {
    const { rows } = await this.pool.query<CuratedRow>(
      `UPDATE ${SHARED_SCHEMA}.curated_answers SET question = $3, answer = $4, sources = $5, updated_at = now() WHERE collection = $1 AND id::text = $2 RETURNING *`,
      [collection, id, change.question, change.answer, JSON.stringify(change.sources)],
    );
    this.cache.delete(collection);
    return rows[0] ? toCurated(rows[0]) : undefined;
  }

  async remove(collection: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${SHARED_SCHEMA}.curated_answers WHERE collection = $1 AND id::text = $2`, [collection, id]);
    this.cache.delete(collection);
    return (rowCount ?? 0) > 0;
  }
}
