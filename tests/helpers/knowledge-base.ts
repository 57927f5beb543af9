// A knowledge base over docs-corpus in a temporary folder, for tests that need the real pipeline end to end.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LanguageModel } from '../../src/answer/types.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from './temp.ts';

export async function corpusKnowledgeBase(options: { model?: LanguageModel; environment?: Record<string, string>; dataDir?: string } = {}): Promise<KnowledgeBase> {
  const dataDir = options.dataDir ?? path.join(temporaryDirectory(), 'data');
  const config = testConfig({ KB_DATA_DIR: dataDir, ...options.environment });
  const knowledgeBase = await KnowledgeBase.open(config, silentLogger, options.model ? { model: options.model } : {});
  if ((await knowledgeBase.storage.documents.documentCount()) === 0) await knowledgeBase.ingest(['docs-corpus']);
  return knowledgeBase;
}

/** Defaults as a user gets them, but never reading the developer's own LLM or model settings. */
export function testConfig(environment: Record<string, string>): Readonly<Config> {
  return loadConfig({ KB_MODELS_DIR: path.join(temporaryDirectory(), 'no-models'), KB_LOG_LEVEL: 'silent', ...environment });
}

/**
 * Documents in the index of a folder, read while another process may be writing it (WAL allows a concurrent reader):
 * the progress mark that crash tests kill at. 0 while the database does not exist yet or its schema is being written.
 */
export function documentCount(dataDir: string): number {
  try {
    const database = new Database(path.join(dataDir, 'kb.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return database.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM documents').get()?.count ?? 0;
    } finally {
      database.close();
    }
  } catch {
    return 0;
  }
}
