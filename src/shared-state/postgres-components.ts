// The components of a deployment of several API nodes sharing one PostgreSQL database (KB_DATABASE_URL): the shared
// schema migrated at start-up (under an advisory lock), then keys, answers, jobs, collections, originals and rate-limit
// counters from it, with the change checker that brings other nodes' changes here.
import { PostgresCuratedAnswerStore } from './postgres-curated.ts';
import { PostgresSyncScheduleStore } from './postgres-schedules.ts';
import type { FastifyBaseLogger } from 'fastify';
import { CollectionRegistry, DEFAULT_COLLECTION } from '../collections/registry.ts';
import type { Components } from '../components.ts';
import type { Config } from '../config.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { poolFor } from '../store/postgres-database.ts';
import { schemaOf } from '../store/postgres-storage.ts';
import { PostgresJobQueue } from './postgres-jobs.ts';
import {
  PostgresAnswerLog,
  PostgresCollectionCatalog,
  PostgresKeyDirectory,
  PostgresOriginalFiles,
  SHARED_SCHEMA,
  SHARED_SCHEMA_VERSION,
  SharedChanges,
  migrateSharedSchema,
  postgresRateLimitStore,
  pruneRateLimits,
  sharedSchemaVersion,
  sharedSessionSecret,
} from './postgres.ts';

/** How often a node deletes rate-limit counters of windows that ended (ms). */
const PRUNE_EVERY_MS = 5 * 60_000;

export async function postgresComponents(config: Readonly<Config>, logger: Pick<FastifyBaseLogger, 'info' | 'warn'>, knowledgeBase: KnowledgeBase | Promise<KnowledgeBase>): Promise<Components> {
  if (!config.databaseUrl) throw new Error('postgresComponents needs KB_DATABASE_URL');
  const pool = poolFor(config.databaseUrl, config.databasePoolSize);
  const migrated = await migrateSharedSchema(pool);
  if (migrated.from !== migrated.to) logger.info(`shared schema migrated from version ${migrated.from} to ${migrated.to}`);
  const changes = new SharedChanges(pool, (message) => logger.warn(message));
  await changes.poll();
  const keys = await PostgresKeyDirectory.open(pool, changes);
  const catalog = await PostgresCollectionCatalog.open(pool, changes);
  const collections = new CollectionRegistry(config, { info: (message) => logger.info(message), warn: (message) => logger.warn(message) }, knowledgeBase, catalog);
  const jobs = new PostgresJobQueue(pool, config.uploads.maxQueuedJobs, config.uploads.jobLeaseSeconds, logger);
  const sessionSecret = config.access.sessionSecret ?? (await sharedSessionSecret(pool));
  changes.start();
  const prune = setInterval(() => void pruneRateLimits(pool).catch(() => undefined), PRUNE_EVERY_MS);
  prune.unref();
  return {
    keys,
    answers: new PostgresAnswerLog(pool),
    jobs,
    collections,
    files: new PostgresOriginalFiles(pool, config.dataDir),
    schedules: new PostgresSyncScheduleStore(pool),
    curated: new PostgresCuratedAnswerStore(pool),
    sessionSecret,
    rateLimitStore: postgresRateLimitStore(pool),
    async describe() {
      return { backend: 'postgresql', schemaVersion: await sharedSchemaVersion(pool), expectedSchemaVersion: SHARED_SCHEMA_VERSION, database: 'reachable' };
    },
    async close() {
      clearInterval(prune);
      await changes.stop();
      await jobs.close();
      await collections.closeAll();
    },
  };
}

/** The keys of the deployment's database, for a command (no change checker: a command ends before keys change). */
export async function sharedKeyDirectory(databaseUrl: string): Promise<PostgresKeyDirectory> {
  const pool = poolFor(databaseUrl);
  await migrateSharedSchema(pool);
  return PostgresKeyDirectory.open(pool, new SharedChanges(pool, () => undefined));
}

/** The collections list of the deployment's database, for a command. */
export async function sharedCollectionCatalog(databaseUrl: string): Promise<PostgresCollectionCatalog> {
  const pool = poolFor(databaseUrl);
  await migrateSharedSchema(pool);
  return PostgresCollectionCatalog.open(pool, new SharedChanges(pool, () => undefined));
}

/** The deployment's database at a glance (`kb status`). */
export async function databaseStatus(databaseUrl: string): Promise<{
  database: string;
  sharedSchemaVersion: number;
  expectedSharedSchemaVersion: number;
  collections: { name: string; schema: string; schemaVersion: number; documents: number; chunks: number }[];
  jobs: { queued: number; running: number };
}> {
  const pool = poolFor(databaseUrl);
  const { rows: server } = await pool.query<{ version: string }>(`SELECT current_setting('server_version') AS version`);
  const sharedVersion = await sharedSchemaVersion(pool);
  const names = [DEFAULT_COLLECTION];
  let jobs = { queued: 0, running: 0 };
  if (sharedVersion > 0) {
    names.push(...(await pool.query<{ name: string }>(`SELECT name FROM ${SHARED_SCHEMA}.collections ORDER BY name`)).rows.map((row) => row.name));
    const { rows } = await pool.query<{ queued: number; running: number }>(
      `SELECT count(*) FILTER (WHERE state = 'queued')::integer AS queued, count(*) FILTER (WHERE state = 'running')::integer AS running FROM ${SHARED_SCHEMA}.jobs`,
    );
    jobs = rows[0]!;
  }
  const collections = [];
  for (const name of names) {
    const schema = schemaOf(name);
    const { rows } = await pool.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`${schema}.statistics`]);
    if (!rows[0]!.exists) {
      collections.push({ name, schema, schemaVersion: 0, documents: 0, chunks: 0 });
      continue;
    }
    const { rows: state } = await pool.query<{ version: number; documents: number; chunks: string }>(
      `SELECT (SELECT max(version) FROM ${schema}.schema_migrations) AS version, (SELECT count(*)::integer FROM ${schema}.documents) AS documents, (SELECT chunk_count FROM ${schema}.statistics) AS chunks`,
    );
    collections.push({ name, schema, schemaVersion: state[0]!.version, documents: state[0]!.documents, chunks: Number(state[0]!.chunks) });
  }
  return { database: `PostgreSQL ${server[0]!.version}`, sharedSchemaVersion: sharedVersion, expectedSharedSchemaVersion: SHARED_SCHEMA_VERSION, collections, jobs };
}
