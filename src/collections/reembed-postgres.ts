// Switching a collection's embedding model when it is kept in PostgreSQL: the new vectors are built into a staging
// schema named after the job (from the chunks already stored), while every node keeps querying the old schema; then,
// in one transaction, the old schema is renamed away, the staging schema takes its name and the collection's settings
// take the new embedder, so that the index and the settings that read it never disagree, whatever crashes. The old
// schema is dropped after the commit. (Both names start with `kb__`, which no collection's schema can.) Other nodes see the settings change within a second (the collections' change
// counter) and reopen the collection with the new embedder. A job taken over after its worker died starts the build
// again: the staging schema of the same job is dropped first; a failed build drops it and leaves everything as it was.
import { randomBytes } from 'node:crypto';
import { createEmbedder, vectorModeFor } from '../embed/index.ts';
import { SHARED_SCHEMA, bumpGeneration } from '../shared-state/postgres.ts';
import { inTransaction, lockSchema, poolFor } from '../store/postgres-database.ts';
import { PostgresStorage, schemaOf } from '../store/postgres-storage.ts';
import { copyWithNewVectors, type ReembedOptions } from './reembed.ts';

export async function reembedInPostgres(options: ReembedOptions, databaseUrl: string): Promise<void> {
  const { current, target, change } = options;
  const embedder = await createEmbedder(target, options.logger);
  const pool = poolFor(databaseUrl, target.databasePoolSize);
  const schema = schemaOf(target.collection);
  const staging = `kb__reembed_${options.jobId.replace(/[^0-9a-f]/g, '').slice(0, 16)}`;
  await pool.query(`DROP SCHEMA IF EXISTS ${staging} CASCADE`);
  let swapped = false;
  try {
    const next = await PostgresStorage.open({ pool, schema: staging, embedder, vectors: vectorModeFor(target, embedder) });
    await copyWithNewVectors(current, next, embedder, options.onProgress);
    await next.close();
    const retired = `kb__retired_${randomBytes(8).toString('hex')}`;
    await inTransaction(pool, async (client) => {
      await lockSchema(client, schema);
      await client.query(`ALTER SCHEMA ${schema} RENAME TO ${retired}`);
      await client.query(`ALTER SCHEMA ${staging} RENAME TO ${schema}`);
      await client.query(`UPDATE ${SHARED_SCHEMA}.collections SET settings = settings || $2::jsonb WHERE name = $1`, [target.collection, JSON.stringify(change)]);
      await bumpGeneration(client, 'collections');
    });
    swapped = true;
    await pool.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE`);
    // This node's view of the settings (the write is the same, so repeating it is harmless), then its reopening.
    await options.commitSettings(change);
    await options.swap();
  } finally {
    if (!swapped) await pool.query(`DROP SCHEMA IF EXISTS ${staging} CASCADE`).catch(() => undefined);
  }
}
