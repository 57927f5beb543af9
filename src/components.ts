// What a deployment keeps besides each knowledge base's storage, chosen once at start-up and handed to the server as
// one object: API keys, the answers and feedback log, ingestion jobs, the collections (which open each knowledge
// base's storage through store/open-storage.ts) and the rate-limit counters. The embedded default keeps all of it in
// the data directory of this one process; a backend shared by several API processes fills the same interfaces.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import { CollectionRegistry } from './collections/registry.ts';
import { FeedbackStore, type AnswerRecord, type ConversationQuery, type ConversationRecord, type FeedbackRecord } from './feedback/feedback-store.ts';
import { LocalOriginalFiles, type OriginalFiles } from './files/original-files.ts';
import { LocalJobQueue } from './jobs/jobs.ts';
import type { JobQueue } from './jobs/types.ts';
import { KeyStore, type Scope, type StoredKey } from './keys/key-store.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import { FileSyncScheduleStore, type SyncScheduleStore } from './sync/schedules.ts';
import { FileCuratedAnswerStore, type CuratedAnswerStore } from './curated/curated-answers.ts';

/**
 * API keys. Checking a presented key happens on every request and reads a snapshot kept in memory (re-read when the
 * keys change: the file's time here, a notification from a shared database), so it is synchronous; changes are not.
 */
export interface KeyDirectory {
  /** Keys not revoked, from the current snapshot. */
  active(): readonly StoredKey[];
  /** The active key matching a presented secret. */
  match(secret: string): StoredKey | undefined;
  all(): Promise<StoredKey[]>;
  create(input: { scope: Scope; collection?: string; origins?: string[]; groups?: string[]; label?: string; rateLimitPerMinute?: number }): Promise<{ key: string; record: StoredKey }>;
  revoke(id: string): Promise<boolean>;
  /** Whether a console session was signed out (before it expired), from the current snapshot. */
  isSignedOut(sessionId: string): boolean;
  /** Ends a console session on every node of the deployment; remembered until it would have expired. */
  signOut(sessionId: string, expiresAt: Date): Promise<void>;
}

/** Answers given and the feedback on them. */
export interface AnswerLog {
  recordAnswer(answer: AnswerRecord): Promise<void>;
  hasAnswer(id: string): Promise<boolean>;
  recordFeedback(answerId: string, rating: 'up' | 'down', comment: string | undefined): Promise<void>;
  listFeedback(limit?: number, offset?: number): Promise<FeedbackRecord[]>;
  /** One logged answer (to promote it to a curated answer). */
  getAnswer(id: string): Promise<ConversationRecord | undefined>;
  /** The conversation log: answers newest first with their feedback, filtered by the store, a page at a time. */
  listConversations(query: ConversationQuery): Promise<{ conversations: ConversationRecord[]; total: number }>;
  /** Deletes answers and their feedback older than `before` (KB_LOG_RETENTION_DAYS); returns how many. */
  pruneBefore(before: Date): Promise<number>;
  close(): Promise<void>;
}

/** The keys file of the data directory (keys/key-store.ts) behind the KeyDirectory seam. */
export class LocalKeyDirectory implements KeyDirectory {
  constructor(readonly store: KeyStore) {}
  active(): readonly StoredKey[] {
    return this.store.active();
  }
  match(secret: string): StoredKey | undefined {
    return this.store.match(secret);
  }
  async all(): Promise<StoredKey[]> {
    return this.store.all();
  }
  async create(input: Parameters<KeyDirectory['create']>[0]): Promise<{ key: string; record: StoredKey }> {
    return this.store.create(input);
  }
  async revoke(id: string): Promise<boolean> {
    return this.store.revoke(id);
  }
  // Kept in memory: the embedded deployment is one server process (its query threads never see console sessions).
  private readonly signedOut = new Map<string, number>();
  isSignedOut(sessionId: string): boolean {
    return this.signedOut.has(sessionId);
  }
  async signOut(sessionId: string, expiresAt: Date): Promise<void> {
    const now = Date.now();
    for (const [id, expiry] of this.signedOut) if (expiry <= now) this.signedOut.delete(id);
    this.signedOut.set(sessionId, expiresAt.getTime());
  }
}

/** feedback.sqlite of the data directory behind the AnswerLog seam. */
export class LocalAnswerLog implements AnswerLog {
  constructor(readonly store: FeedbackStore) {}
  async recordAnswer(answer: AnswerRecord): Promise<void> {
    this.store.recordAnswer(answer);
  }
  async hasAnswer(id: string): Promise<boolean> {
    return this.store.hasAnswer(id);
  }
  async recordFeedback(answerId: string, rating: 'up' | 'down', comment: string | undefined): Promise<void> {
    this.store.recordFeedback(answerId, rating, comment);
  }
  async listFeedback(limit?: number, offset?: number): Promise<FeedbackRecord[]> {
    return this.store.listFeedback(limit, offset);
  }
  async listConversations(query: ConversationQuery): Promise<{ conversations: ConversationRecord[]; total: number }> {
    return this.store.listConversations(query);
  }
  async getAnswer(id: string): Promise<ConversationRecord | undefined> {
    return this.store.getAnswer(id);
  }
  async pruneBefore(before: Date): Promise<number> {
    return this.store.pruneBefore(before);
  }
  async close(): Promise<void> {
    this.store.close();
  }
}

export interface Components {
  keys: KeyDirectory;
  answers: AnswerLog;
  jobs: JobQueue;
  collections: CollectionRegistry;
  /** Uploaded originals. */
  files: OriginalFiles;
  /** Scheduled website re-syncs. */
  schedules: SyncScheduleStore;
  /** Reviewed answers matched before retrieval. */
  curated: CuratedAnswerStore;
  /** The secret that signs widget sessions when KB_SESSION_SECRET is not set: shared by every node of a deployment. */
  sessionSecret?: string;
  /** For /readyz: where this state is kept and its schema's state. */
  describe(): Promise<{ backend: 'embedded' | 'postgresql'; schemaVersion?: number; expectedSchemaVersion?: number; database?: 'reachable' }>;
  /**
   * Where the per-key rate-limit counters live: undefined keeps them in this process (@fastify/rate-limit's memory
   * store); a shared backend gives a store class of that plugin's interface so that every node counts together.
   */
  rateLimitStore?: unknown;
  close(): Promise<void>;
}

/** The embedded default: everything in config.dataDir, for one API process. */
export function localComponents(
  config: Readonly<Config>,
  logger: Pick<FastifyBaseLogger, 'info' | 'warn'>,
  knowledgeBase: KnowledgeBase | Promise<KnowledgeBase>,
  given: Partial<Pick<Components, 'keys' | 'answers' | 'jobs' | 'collections' | 'files'>> = {},
): Components {
  const answers = given.answers ?? new LocalAnswerLog(new FeedbackStore(config.dataDir));
  const ownsAnswers = !given.answers;
  const collections = given.collections ?? new CollectionRegistry(config, { info: (message) => logger.info(message), warn: (message) => logger.warn(message) }, knowledgeBase);
  return {
    keys: given.keys ?? new LocalKeyDirectory(new KeyStore(config.dataDir)),
    answers,
    jobs: given.jobs ?? new LocalJobQueue(config.dataDir, config.uploads.maxQueuedJobs),
    collections,
    files: given.files ?? new LocalOriginalFiles((name) => collections.dataDirOf(name)),
    schedules: new FileSyncScheduleStore(config.dataDir),
    curated: new FileCuratedAnswerStore(config.dataDir),
    async describe() {
      return { backend: 'embedded' };
    },
    async close() {
      await collections.closeAll();
      if (ownsAnswers) await answers.close();
    },
  };
}
