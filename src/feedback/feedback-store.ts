// Answers given and the feedback on them (thumbs up/down from the widget), in their own SQLite file next to the
// index, so that rebuilding the index never loses them. An answer is recorded so that feedback can be checked
// against a real answer id and read with its question by the team that maintains the documents.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { storageError } from '../errors.ts';

/** Version of this file's schema (meta.schema_version). */
export const FEEDBACK_SCHEMA_VERSION = 1;

export interface AnswerRecord {
  id: string;
  question: string;
  answer: string;
  answerable: boolean;
  user: string | undefined;
  origin: string | undefined;
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
        user TEXT, origin TEXT, created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS feedback (
        answer_id TEXT PRIMARY KEY REFERENCES answers(id), rating TEXT NOT NULL, comment TEXT, created_at TEXT NOT NULL
      );
    `);
    const version = this.database.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'schema_version'`).get()?.value;
    if (Number(version) !== FEEDBACK_SCHEMA_VERSION) throw new Error(`feedback.sqlite has schema version ${version}; this build reads ${FEEDBACK_SCHEMA_VERSION}`);
    // Prepared once: an answer is recorded on every ask.
    this.statements = {
      insertAnswer: this.database.prepare(`INSERT INTO answers (id, question, answer, answerable, user, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
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
    this.statements.insertAnswer.run(answer.id, answer.question, answer.answer, answer.answerable ? 1 : 0, answer.user ?? null, answer.origin ?? null, new Date().toISOString());
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

  close(): void {
    this.database.close();
  }
}
