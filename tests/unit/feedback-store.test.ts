// The conversation log's file: a version-1 file (before the log kept sources, confidence and kind) is brought to
// version 2 in place with its answers and feedback; answers past the retention age are deleted with their feedback.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FeedbackStore } from '../../src/feedback/feedback-store.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

describe('feedback.sqlite', () => {
  it('migrates a version-1 file in place and keeps its answers and feedback', () => {
    const dataDir = temporaryDirectory();
    const old = new Database(path.join(dataDir, 'feedback.sqlite'));
    old.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '1');
      CREATE TABLE answers (id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL, user TEXT, origin TEXT, created_at TEXT NOT NULL);
      CREATE TABLE feedback (answer_id TEXT PRIMARY KEY REFERENCES answers(id), rating TEXT NOT NULL, comment TEXT, created_at TEXT NOT NULL);
      INSERT INTO answers VALUES ('a1', 'Where is bin R-7?', 'At reception.', 1, 'u-9', 'https://portal.example', '2026-01-05T10:00:00.000Z');
      INSERT INTO feedback VALUES ('a1', 'down', 'it moved', '2026-01-05T10:01:00.000Z');
    `);
    old.close();
    const store = new FeedbackStore(dataDir);
    try {
      store.recordAnswer({
        id: 'a2',
        question: 'VPN?',
        answer: 'Use the portal.',
        answerable: true,
        user: undefined,
        origin: undefined,
        collection: 'it',
        kind: 'answer',
        confidence: 0.8,
        sources: [{ documentId: 'd1', title: 'VPN FAQ', source: 'it/vpn-faq.md' }],
      });
      const { conversations, total } = store.listConversations({ limit: 10, offset: 0 });
      assert.equal(total, 2);
      assert.deepEqual(conversations[1], {
        id: 'a1',
        question: 'Where is bin R-7?',
        answer: 'At reception.',
        answerable: true,
        user: 'u-9',
        origin: 'https://portal.example',
        createdAt: '2026-01-05T10:00:00.000Z',
        rating: 'down',
        comment: 'it moved',
      });
      assert.deepEqual([conversations[0]!.collection, conversations[0]!.confidence, conversations[0]!.sources?.[0]?.source], ['it', 0.8, 'it/vpn-faq.md']);
      // Retention: the January answer and its feedback go; today's stays.
      assert.equal(store.pruneBefore(new Date('2026-06-01T00:00:00Z')), 1);
      assert.deepEqual(
        store.listConversations({ limit: 10, offset: 0 }).conversations.map((entry) => entry.id),
        ['a2'],
      );
      assert.deepEqual(store.listFeedback(), []);
    } finally {
      store.close();
    }
    const reopened = new FeedbackStore(dataDir);
    assert.equal(reopened.listConversations({ limit: 10, offset: 0 }).total, 1);
    reopened.close();
  });
});
