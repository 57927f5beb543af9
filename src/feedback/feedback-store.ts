// Answers given and the feedback on them (thumbs up/down from the widget), in their own SQLite file next to the
// index, so that rebuilding the index never loses them. An answer is recorded so that feedback can be checked
// against a real answer id and read with its question by the team that maintains the documents.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { AnswerKind, Citation } from '../answer/types.ts';
import { storageError } from '../errors.ts';

/** Version of this file's schema (meta.schema_version). 2: what the console's conversation log shows. */
export const FEEDBACK_SCHEMA_VERSION = 2;

export interface AnswerSource {
  documentId: string;
  title: string;
  source: string;
  page?: number;
}

/** What the log keeps of an answer's citations: which document and page, not the passage. */
export function sourcesOf(citations: readonly Citation[]): AnswerSource[] {
  return citations.map((citation) => ({ documentId: citation.documentId, title: citation.title, source: citation.source, ...(citation.page !== undefined ? { page: citation.page } : {}) }));
}

export interface AnswerRecord {
  id: string;
  question: string;
  answer: string;
  answerable: boolean;
  user: string | undefined;
  origin: string | undefined;
  /** Recorded since schema 2; older answers have none of these. */
  collection?: string;
  kind?: AnswerKind;
  confidence?: number;
  sources?: AnswerSource[];
}

/** An answer as the conversation log shows it, with its feedback. */
export interface ConversationRecord extends AnswerRecord {
  createdAt: string;
  rating?: 'up' | 'down';
  comment?: string;
}

/** Which answers the conversation log lists (every condition given must hold). */
export interface ConversationQuery {
  limit: number;
  offset: number;
  /** Refused: "not in the knowledge base". */
  refused?: boolean;
  /** Answered with a confidence below this. */
  confidenceBelow?: number;
  rating?: 'up' | 'down';
  /** ISO times, inclusive from, exclusive until. */
  since?: string;
  until?: string;
  collection?: string;
}

export interface FeedbackRecord {
  answerId: string;
  rating: 'up' | 'down';
  comment: string | undefined;
  createdAt: string;
  question: string;
  answer: string;
}

export class FeedbackStore {
  private readonly database: Database.Database;
  private readonly statements;

  constructor(dataDir: string) {
    try {
      mkdirSync(dataDir, { recursive: true });
      this.database = new Database(path.join(dataDir, 'feedback.sqlite'));
      this.database.pragma('journal_mode = WAL');
    } catch (error) {
      throw storageError(error, dataDir) ?? error;
    }
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '${FEEDBACK_SCHEMA_VERSION}');
      CREATE TABLE IF NOT EXISTS answers (
        id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL,
        user TEXT, origin TEXT, created_at TEXT NOT NULL, collection TEXT, kind TEXT, confidence REAL, sources TEXT
      );
      CREATE TABLE IF NOT EXISTS feedback (
        answer_id TEXT PRIMARY KEY REFERENCES answers(id), rating TEXT NOT NULL, comment TEXT, created_at TEXT NOT NULL
      );
    `);
    let version = Number(this.database.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`).get()?.value);
    if (version === 1) {
      // 1 → 2 in place: the conversation log's columns (older answers keep them empty) and an index by time.
      this.database.transaction(() => {
        this.database.exec(`
          ALTER TABLE answers ADD COLUMN collection TEXT; ALTER TABLE answers ADD COLUMN kind TEXT;
          ALTER TABLE answers ADD COLUMN confidence REAL; ALTER TABLE answers ADD COLUMN sources TEXT;
          UPDATE meta SET value = '2' WHERE key = 'schema_version';
        `);
      })();
      version = 2;
    }
    if (version !== FEEDBACK_SCHEMA_VERSION) throw new Error(`feedback.sqlite has schema version ${version}; this build reads ${FEEDBACK_SCHEMA_VERSION}`);
    this.database.exec(`CREATE INDEX IF NOT EXISTS answers_by_time ON answers(created_at)`);
    // Prepared once: an answer is recorded on every ask.
    this.statements = {
      insertAnswer: this.database.prepare(
        `INSERT INTO answers (id, question, answer, answerable, user, origin, created_at, collection, kind, confidence, sources) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      answerExists: this.database.prepare(`SELECT 1 FROM answers WHERE id = ?`),
      upsertFeedback: this.database.prepare(
        `INSERT INTO feedback (answer_id, rating, comment, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(answer_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, created_at = excluded.created_at`,
      ),
      listFeedback: this.database.prepare<[number, number], { answer_id: string; rating: 'up' | 'down'; comment: string | null; created_at: string; question: string; answer: string }>(
        `SELECT f.answer_id, f.rating, f.comment, f.created_at, a.question, a.answer FROM feedback f JOIN answers a ON a.id = f.answer_id ORDER BY f.created_at DESC LIMIT ? OFFSET ?`,
      ),
    };
  }

  recordAnswer(answer: AnswerRecord): void {
    this.statements.insertAnswer.run(
      answer.id,
      answer.question,
      answer.answer,
      answer.answerable ? 1 : 0,
      answer.user ?? null,
      answer.origin ?? null,
      new Date().toISOString(),
      answer.collection ?? null,
      answer.kind ?? null,
      answer.confidence ?? null,
      answer.sources ? JSON.stringify(answer.sources) : null,
    );
  }

  hasAnswer(id: string): boolean {
    return this.statements.answerExists.get(id) !== undefined;
  }

  /** Records or replaces the feedback on an answer (a user may change their mind). */
  recordFeedback(answerId: string, rating: 'up' | 'down', comment: string | undefined): void {
    this.statements.upsertFeedback.run(answerId, rating, comment ?? null, new Date().toISOString());
  }

  listFeedback(limit = 100, offset = 0): FeedbackRecord[] {
    return this.statements.listFeedback
      .all(limit, offset)
      .map((row) => ({ answerId: row.answer_id, rating: row.rating, comment: row.comment ?? undefined, createdAt: row.created_at, question: row.question, answer: row.answer }));
  }

  /** The conversation log: answers newest first with their feedback, filtered in SQL, a page at a time. */
  listConversations(query: ConversationQuery): { conversations: ConversationRecord[]; total: number } {
    const values: (string | number)[] = [];
    const where = conversationWhere(query, (value) => {
      values.push(value);
      return '?';
    });
    const from = `FROM answers a LEFT JOIN feedback f ON f.answer_id = a.id ${where}`;
    const total = this.database.prepare<(string | number)[], { total: number }>(`SELECT count(*) AS total ${from}`).get(...values)!.total;
    const rows = this.database
      .prepare<(string | number)[], ConversationRow>(`SELECT a.*, f.rating, f.comment ${from} ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?`)
      .all(...values, query.limit, query.offset);
    return { conversations: rows.map(conversationOf), total };
  }

  getAnswer(id: string): ConversationRecord | undefined {
    const row = this.database.prepare<[string], ConversationRow>(`SELECT a.*, f.rating, f.comment FROM answers a LEFT JOIN feedback f ON f.answer_id = a.id WHERE a.id = ?`).get(id);
    return row ? conversationOf(row) : undefined;
  }

  /** Deletes answers (and their feedback) older than `before`; returns how many. */
  pruneBefore(before: Date): number {
    const cutoff = before.toISOString();
    return this.database.transaction(() => {
      this.database.prepare(`DELETE FROM feedback WHERE answer_id IN (SELECT id FROM answers WHERE created_at < ?)`).run(cutoff);
      return this.database.prepare(`DELETE FROM answers WHERE created_at < ?`).run(cutoff).changes;
    })();
  }

  close(): void {
    this.database.close();
  }
}

/**
 * The WHERE clause of the conversation log's filters over `answers a LEFT JOIN feedback f`, for either backend:
 * `parameter` adds a value and returns its placeholder (SQLite's ?, PostgreSQL's $n).
 */
export function conversationWhere(query: ConversationQuery, parameter: (value: string | number) => string): string {
  const clauses: string[] = [];
  if (query.refused !== undefined) clauses.push(query.refused ? `a.kind = 'not_found'` : `(a.kind IS NULL OR a.kind != 'not_found')`);
  if (query.confidenceBelow !== undefined) clauses.push(`a.confidence < ${parameter(query.confidenceBelow)}`);
  if (query.rating) clauses.push(`f.rating = ${parameter(query.rating)}`);
  if (query.since) clauses.push(`a.created_at >= ${parameter(query.since)}`);
  if (query.until) clauses.push(`a.created_at < ${parameter(query.until)}`);
  if (query.collection) clauses.push(`a.collection = ${parameter(query.collection)}`);
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

interface ConversationRow {
  id: string;
  question: string;
  answer: string;
  answerable: number | boolean;
  user: string | null;
  origin: string | null;
  created_at: string | Date;
  collection: string | null;
  kind: AnswerKind | null;
  confidence: number | null;
  sources: string | AnswerSource[] | null;
  rating: 'up' | 'down' | null;
  comment: string | null;
}

/** A row of either backend (SQLite's text and integers, PostgreSQL's timestamps, booleans and JSON). */
export function conversationOf(row: ConversationRow): ConversationRecord {
  const sources = typeof row.sources === 'string' ? (JSON.parse(row.sources) as AnswerSource[]) : row.sources;
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    answerable: Boolean(row.answerable),
    user: row.user ?? undefined,
    origin: row.origin ?? undefined,
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at,
    ...(row.collection ? { collection: row.collection } : {}),
    ...(row.kind ? { kind: row.kind } : {}),
    ...(row.confidence !== null ? { confidence: row.confidence } : {}),
    ...(sources ? { sources } : {}),
    ...(row.rating ? { rating: row.rating } : {}),
    ...(row.comment ? { comment: row.comment } : {}),
  };
}
