// Several named knowledge bases in one service. "default" lives in KB_DATA_DIR itself (the layout a single-
// collection install always had); every other collection has its own folder KB_DATA_DIR/collections/<name> with
// its own index, uploaded files and settings (chunk size, embedder, languages). The list is a versioned JSON file,
// replaced atomically.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Logger } from '../embed/index.ts';
import { KbError } from '../errors.ts';
import { forgetInQueryThreads, KnowledgeBase } from '../knowledge-base.ts';
import { dropCollectionSchema } from '../store/postgres-storage.ts';
import { recoverReembed, reembedCollection, type EmbedderChange } from './reembed.ts';

export const COLLECTIONS_FORMAT_VERSION = 1;
export const DEFAULT_COLLECTION = 'default';
/** How long a replaced knowledge base stays open for requests that were already using it (ms). */
const RETIRE_AFTER_MS = 10_000;
export const collectionNamePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const collectionSettingsSchema = z.strictObject({
  chunkTokens: z.number().int().min(50).max(2000).optional().describe('chunk size (KB_CHUNK_TOKENS for this collection)'),
  chunkOverlap: z.number().int().min(0).max(500).optional(),
  embedder: z.enum(['auto', 'builtin', 'transformers']).optional(),
  embeddingModel: z.string().min(1).max(200).optional(),
  languages: z
    .array(z.enum(['zh', 'en']))
    .min(1)
    .max(2)
    .optional()
    .describe('restrict retrieval to chunks in these languages'),
});
export type CollectionSettings = z.infer<typeof collectionSettingsSchema>;

const fileSchema = z.object({
  formatVersion: z.literal(COLLECTIONS_FORMAT_VERSION),
  collections: z.array(z.object({ name: z.string().regex(collectionNamePattern), settings: collectionSettingsSchema, createdAt: z.string() })),
});

export interface CollectionInfo {
  name: string;
  settings: CollectionSettings;
  createdAt: string | undefined;
}

/**
 * Where the list of named collections and their settings lives. Reads come from a snapshot (every request names a
 * collection); a shared catalog refreshes it when another node changes the list and says so through onChange.
 */
export interface CollectionCatalog {
  /** The named collections ("default" is implicit). */
  read(): CollectionInfo[];
  add(info: CollectionInfo): Promise<void>;
  remove(name: string): Promise<void>;
  updateSettings(name: string, settings: CollectionSettings): Promise<void>;
  onChange?(listener: () => void): void;
  /** Reads the list again now (a shared catalog, when a name is not in its snapshot yet). */
  reload?(): Promise<void>;
}

/** collections.json in the data directory. */
export class FileCollectionCatalog implements CollectionCatalog {
  private readonly file: string;

  constructor(private readonly dataDir: string) {
    this.file = path.join(dataDir, 'collections.json');
  }

  read(): CollectionInfo[] {
    if (!existsSync(this.file)) return [];
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    if (!parsed.success) throw new KbError('KB_ERR_INDEX_CORRUPT', { dataDir: this.dataDir, details: `collections.json: ${parsed.error.issues[0]?.message}` });
    return parsed.data.collections;
  }

  private write(collections: CollectionInfo[]): void {
    mkdirSync(this.dataDir, { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ formatVersion: COLLECTIONS_FORMAT_VERSION, collections }, null, 2) + '\n');
    renameSync(temporary, this.file);
  }

  // Written before the first await: the file has changed when the call returns, as the re-embedding recovery needs.
  async add(info: CollectionInfo): Promise<void> {
    this.write([...this.read(), info]);
  }

  async remove(name: string): Promise<void> {
    this.write(this.read().filter((collection) => collection.name !== name));
  }

  async updateSettings(name: string, settings: CollectionSettings): Promise<void> {
    this.write(this.read().map((collection) => (collection.name === name ? { ...collection, settings } : collection)));
  }
}

export class CollectionRegistry {
  private readonly open = new Map<string, Promise<KnowledgeBase>>();
  /** The settings each open collection was opened with (as JSON), to notice another node's change. */
  private readonly openedWith = new Map<string, string>();
  private readonly catalog: CollectionCatalog;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly logger: Logger,
    defaultKnowledgeBase?: KnowledgeBase | Promise<KnowledgeBase>,
    catalog?: CollectionCatalog,
  ) {
    this.catalog = catalog ?? new FileCollectionCatalog(config.dataDir);
    if (defaultKnowledgeBase) this.open.set(DEFAULT_COLLECTION, Promise.resolve(defaultKnowledgeBase));
    // A collection another node deleted is closed here too.
    this.catalog.onChange?.(() => void this.followCatalog());
  }

  private read(): CollectionInfo[] {
    return this.catalog.read();
  }

  /** Closes what another node deleted, and reopens what it switched to another embedder (or other settings). */
  private async followCatalog(): Promise<void> {
    const listed = new Map(this.read().map((collection) => [collection.name, JSON.stringify(collection.settings)]));
    for (const [name, opening] of [...this.open]) {
      if (name === DEFAULT_COLLECTION) continue;
      const settings = listed.get(name);
      if (settings === this.openedWith.get(name)) continue;
      if (this.open.get(name) !== opening) continue;
      this.open.delete(name);
      await forgetInQueryThreads(this.dataDirOf(name));
      if (settings === undefined) {
        this.logger.info(`collection ${name} was deleted by another node: closed here`);
        await (await opening.catch(() => undefined))?.close();
        continue;
      }
      this.logger.info(`collection ${name} has new settings from another node: reopened here`);
      await this.get(name).catch(() => undefined);
      // Requests already running on the old instance finish on it.
      setTimeout(() => void opening.then((knowledgeBase) => knowledgeBase.close()).catch(() => undefined), RETIRE_AFTER_MS).unref();
    }
  }

  list(): CollectionInfo[] {
    return [{ name: DEFAULT_COLLECTION, settings: {}, createdAt: undefined }, ...this.read()];
  }

  find(name: string): CollectionInfo | undefined {
    return this.list().find((collection) => collection.name === name);
  }

  /**
   * Like find, but a name missing from a shared catalog's snapshot is looked up in the catalog itself first: a
   * collection another node created a moment ago is found on this one at once, not after the next change check.
   */
  async lookup(name: string): Promise<CollectionInfo | undefined> {
    const found = this.find(name);
    if (found || !this.catalog.reload) return found;
    await this.catalog.reload();
    return this.find(name);
  }

  dataDirOf(name: string): string {
    return name === DEFAULT_COLLECTION ? this.config.dataDir : path.join(this.config.dataDir, 'collections', name);
  }

  configOf(info: CollectionInfo): Readonly<Config> {
    const settings = info.settings;
    return Object.freeze({
      ...this.config,
      dataDir: this.dataDirOf(info.name),
      collection: info.name,
      chunking: { maxTokens: settings.chunkTokens ?? this.config.chunking.maxTokens, overlapTokens: settings.chunkOverlap ?? this.config.chunking.overlapTokens },
      embedder: settings.embedder ?? this.config.embedder,
      embeddingModel: settings.embeddingModel ?? this.config.embeddingModel,
    });
  }

  /** The collection's knowledge base, opened on first use. */
  get(name: string): Promise<KnowledgeBase> {
    const cached = this.open.get(name);
    if (cached) return cached;
    if (!this.find(name)) {
      if (!this.catalog.reload) return Promise.reject(new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: name }));
      return this.lookup(name).then((found) => (found ? this.get(name) : Promise.reject(new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: name }))));
    }
    recoverReembed(this.dataDirOf(name), (change) => this.commitEmbedder(name, change));
    const info = this.find(name)!;
    this.openedWith.set(name, JSON.stringify(info.settings));
    const opening = KnowledgeBase.open(this.configOf(info), this.logger).then((knowledgeBase) => {
      // A collection restricted to one language searches only that language unless a request says otherwise.
      if (info.settings.languages?.length === 1) knowledgeBase.defaultFilters = { language: info.settings.languages[0]! };
      return knowledgeBase;
    });
    opening.catch(() => this.open.delete(name));
    this.open.set(name, opening);
    return opening;
  }

  async create(name: string, settings: CollectionSettings): Promise<CollectionInfo> {
    if (!collectionNamePattern.test(name)) throw new KbError('KB_ERR_VALIDATION', { details: 'name: lower-case letters, digits, - and _, starting with a letter or digit, at most 64' });
    if (this.find(name)) throw new KbError('KB_ERR_CONFLICT', { details: `collection "${name}" exists already` });
    const info: CollectionInfo = { name, settings, createdAt: new Date().toISOString() };
    await this.catalog.add(info);
    await this.get(name);
    return info;
  }

  async delete(name: string): Promise<boolean> {
    if (name === DEFAULT_COLLECTION) throw new KbError('KB_ERR_FORBIDDEN', { details: 'the default collection cannot be deleted (delete its documents instead)' });
    if (!(await this.lookup(name))) return false;
    const opening = this.open.get(name);
    this.open.delete(name);
    if (opening) await (await opening.catch(() => undefined))?.close();
    await forgetInQueryThreads(this.dataDirOf(name));
    await this.catalog.remove(name);
    if (this.config.databaseUrl) await dropCollectionSchema(this.config.databaseUrl, name);
    rmSync(this.dataDirOf(name), { recursive: true, force: true });
    return true;
  }

  /**
   * Switches a collection to another embedder: rebuilds its vectors in the background (queries use the old index
   * meanwhile) and swaps atomically when done; a failure leaves the old index and settings in place.
   */
  async switchEmbedder(name: string, change: Pick<CollectionSettings, 'embedder' | 'embeddingModel'>, jobId: string, onProgress: (done: number, total: number) => void): Promise<void> {
    if (name === DEFAULT_COLLECTION)
      throw new KbError('KB_ERR_CONFLICT', { details: 'the default collection follows KB_EMBEDDER and KB_EMBEDDING_MODEL: change them and rebuild, or use a named collection' });
    const info = this.find(name);
    if (!info) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: name });
    const current = await this.get(name);
    const updated: CollectionInfo = { ...info, settings: { ...info.settings, ...change } };
    await reembedCollection({
      current: current.storage,
      target: this.configOf(updated),
      change,
      logger: this.logger,
      jobId,
      onProgress: ({ done, total }) => onProgress(done, total),
      commitSettings: (committed) => this.commitEmbedder(name, committed),
      swap: async () => {
        this.open.delete(name);
        await this.get(name);
        // Requests already running on the old instance finish on it; it closes once they have had time to.
        setTimeout(() => void current.close(), RETIRE_AFTER_MS).unref();
      },
    });
  }

  /** Records a collection's new embedder settings (idempotent). */
  private async commitEmbedder(name: string, change: EmbedderChange): Promise<void> {
    const info = this.find(name);
    if (info) await this.catalog.updateSettings(name, { ...info.settings, ...change });
  }

  async closeAll(): Promise<void> {
    for (const [name, opening] of this.open) {
      if (name === DEFAULT_COLLECTION) continue; // the app's holder owns the default one
      await (await opening.catch(() => undefined))?.close();
    }
    this.open.clear();
  }
}
