// Switching a collection's embedding model without downtime: the new vector index is built in a staging folder
// from the chunks already stored (no re-parsing), while queries keep using the old one; then the index files are
// swapped and the collection reopened. A failed build leaves the old index untouched. The swap is crash-safe: a
// marker file names the staging folder and the new embedder settings before any file moves, and opening a collection
// completes a swap that a crash interrupted (the staging index is complete by then, and the settings are recorded
// with it, so that the index and the settings that read it never disagree); an unmarked staging folder is a build
// that died, and is removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { createEmbedder, documentVectors, type Logger } from '../embed/index.ts';
import { indexableText } from '../ingest/chunker.ts';
import { LocalStore } from '../store/local-store.ts';
import { openStorage } from '../store/open-storage.ts';
import type { Storage } from '../store/types.ts';
import type { Embedder } from '../embed/types.ts';
import { reembedInPostgres } from './reembed-postgres.ts';
import type { CollectionSettings } from './registry.ts';

const SWAP_MARKER = 'reembed-swap.json';
const STAGING_PREFIX = '.reembed-';

/** The embedder settings a swap installs. */
export type EmbedderChange = Pick<CollectionSettings, 'embedder' | 'embeddingModel'>;

/**
 * Finishes an interrupted swap, or removes the remains of an interrupted build. Call before opening the index.
 * `commitSettings` records the new embedder settings of a swap it finishes (it must be idempotent: a crash may repeat it).
 */
export function recoverReembed(dataDir: string, commitSettings: (change: EmbedderChange) => void): void {
  if (!existsSync(dataDir)) return;
  const marker = path.join(dataDir, SWAP_MARKER);
  if (existsSync(marker)) {
    const { staging, change } = JSON.parse(readFileSync(marker, 'utf8')) as { staging: string; change: EmbedderChange };
    moveIndexIn(path.join(dataDir, staging), dataDir);
    commitSettings(change);
    rmSync(marker);
  }
  for (const name of readdirSync(dataDir)) if (name.startsWith(STAGING_PREFIX)) rmSync(path.join(dataDir, name), { recursive: true, force: true });
}

/** Moves an index's files from one folder into another, replacing what is there (each rename is atomic). */
function moveIndexIn(from: string, to: string): void {
  for (const file of LocalStore.files) {
    const source = path.join(from, file);
    if (existsSync(source)) renameSync(source, path.join(to, file));
    else if (file.startsWith('kb.sqlite-')) rmSync(path.join(to, file), { force: true });
  }
}

export interface ReembedProgress {
  done: number;
  total: number;
}

/**
 * Builds the index for `target` (the collection's config with the new embedder settings) next to the current one and
 * swaps it in. `commitSettings` records `change` once the files are in place (as recoverReembed would after a crash);
 * `swap` then reopens the collection and retires the old instance.
 */
export interface ReembedOptions {
  current: Storage;
  target: Readonly<Config>;
  change: EmbedderChange;
  logger: Logger;
  jobId: string;
  onProgress?: (progress: ReembedProgress) => void;
  commitSettings: (change: EmbedderChange) => void | Promise<void>;
  swap: () => Promise<void>;
}

/** Copies every document of `current` into `next` with vectors of the new embedder (the chunks are not parsed again). */
export async function copyWithNewVectors(current: Storage, next: Storage, embedder: Embedder, onProgress?: (progress: ReembedProgress) => void): Promise<void> {
  const documents = await current.documents.listDocuments();
  for (const [index, document] of documents.entries()) {
    const chunks = await current.documents.documentChunks(document.source);
    const texts = chunks.map((chunk) => indexableText(document.title, chunk));
    const vectors = await documentVectors(embedder, texts, next.documents.vectorMode);
    const { id: _id, key: _key, chunkCount: _count, updatedAt: _updated, ...input } = document;
    await next.documents.upsertDocument(
      input,
      chunks.map((chunk, position) => ({ ...chunk, vector: vectors[position]! })),
    );
    onProgress?.({ done: index + 1, total: documents.length });
  }
  await next.flush();
}

export async function reembedCollection(options: ReembedOptions): Promise<void> {
  const { current, target } = options;
  // A PostgreSQL schema has no folder to swap: a staging schema and a rename (collections/reembed-postgres.ts).
  if (target.databaseUrl) return reembedInPostgres(options, target.databaseUrl);
  const embedder = await createEmbedder(target, options.logger);
  const stagingName = `${STAGING_PREFIX}${options.jobId}`;
  const staging = path.join(target.dataDir, stagingName);
  mkdirSync(staging, { recursive: true });
  let swapping = false;
  try {
    const next = await openStorage(target, embedder, staging);
    await copyWithNewVectors(current, next, embedder, options.onProgress);
    await next.close();
    // From here on the new index is complete: a crash rolls the swap forward.
    swapping = true;
    writeFileSync(path.join(target.dataDir, SWAP_MARKER), JSON.stringify({ staging: stagingName, change: options.change }));
    moveIndexIn(staging, target.dataDir);
    await options.commitSettings(options.change);
    rmSync(path.join(target.dataDir, SWAP_MARKER));
    rmSync(staging, { recursive: true, force: true });
    await options.swap();
  } finally {
    if (!swapping) rmSync(staging, { recursive: true, force: true });
  }
}
