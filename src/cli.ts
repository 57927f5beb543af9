// The command line: ingest | serve | start (ingest, then serve) | ask. Thin over the modules; `--help` lists every
// setting. Settings come from the environment and a .env file; a few have flags for convenience.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { openStorage } from './store/open-storage.ts';
import { closeDatabasePools, poolFor } from './store/postgres-database.ts';
import { DEFAULT_SITE_SYNC_LIMITS, syncSite, type SiteSyncLimits, type SiteSyncReport } from './ingest/site-sync.ts';
import { copyStorage } from './store/copy-storage.ts';
import cliProgress from 'cli-progress';
import pino from 'pino';
import { describeSettings, loadConfig, loadDotEnv, type Config } from './config.ts';
import { describeError, isKbError } from './errors.ts';
import { formatSummary, type IngestSummary } from './ingest/pipeline.ts';
import { givenMetadata } from './ingest/given-metadata.ts';
import { availableParallelism } from 'node:os';
import { KnowledgeBase, useQueryThreads } from './knowledge-base.ts';
import { QueryThreads } from './server/query-threads.ts';
import { buildApp } from './server/app.ts';
import { Access, isLoopback } from './server/access/access.ts';
import { KeyStore, scopes, type Scope } from './keys/key-store.ts';
import { LocalKeyDirectory, type KeyDirectory } from './components.ts';
import { databaseStatus, postgresComponents, sharedCollectionCatalog, sharedKeyDirectory } from './shared-state/postgres-components.ts';
import { SHARED_SCHEMA, migrateSharedSchema } from './shared-state/postgres.ts';
import { CollectionRegistry, DEFAULT_COLLECTION } from './collections/registry.ts';
import { READ_EVERYTHING } from './retrieve/read-scope.ts';

const usage = `Usage: kb <command> [options]

Commands:
  start [paths…]     index the paths (if any), then serve the HTTP API
  demo               index the demo knowledge base (docs-corpus), then serve it
  ingest [paths…] [--url-base URL] [--metadata FILE]
                     index documents (PDF, DOCX, XLSX, CSV, PPTX, HTML, Markdown, text) into KB_DATA_DIR; incremental (default: docs-corpus);
                     --url-base links each document to URL + its path in the folder; --metadata gives titles, URLs,
                     tags, department and reader groups per file (JSON: {"defaults": {…}, "files": {"path": {…}}})
  serve              serve the HTTP API over the existing index
  ask "question"     answer one question from the command line
  documents list     list the indexed documents (id, chunks, updated, source)
  documents delete ID|SOURCE
                     remove a document (by the id shown in the list or in citations, or by its source path)
  keys create --scope admin|query|widget [--origins "https://a https://b"] [--collection NAME] [--groups "hr,it"]
              [--rate-limit N] [--label TEXT]
                     create an API key (printed once; stored hashed in KB_DATA_DIR/keys.json, or in the database with
                     KB_DATABASE_URL); --rate-limit sets
                     its own requests per minute
  keys list          list keys (id, scope, state, collection, groups, origins, rate limit, created)
  keys revoke ID     revoke a key at once (running servers stop accepting it)
  migrate-store --to postgres://…|DIR [--collection NAME]
                     copy a collection's documents, chunks and vectors from where it is now (KB_DATABASE_URL, or the
                     data directory) into PostgreSQL or into the embedded store in DIR; verified by document and
                     chunk counts
  crawl URL [--collection NAME] [--depth N] [--max-pages N] [--delay-ms N]
                     index a website and keep it in sync: pages of URL's host (robots.txt obeyed, sitemap.xml read),
                     breadth first to --depth (3) and --max-pages (500), --delay-ms (500) between requests; run it
                     again to reindex changed pages and remove vanished ones; each page's URL is its citation link
  migrate            with KB_DATABASE_URL: create or bring up to date the shared schema and every collection's schema
                     (servers also do it at start-up, under a lock; this is for a deployment step before them)
  status             where the knowledge bases are kept and their state: database reachable, schema versions,
                     documents and chunks per collection, jobs waiting and running

Options:
  --data-dir DIR     same as KB_DATA_DIR
  --port N           same as PORT
  --host HOST        same as HOST
  --collection NAME  (ingest, ask) the collection to use (default: default); ingest creates it if needed
  --json             (ask, ingest, documents list, keys list) print JSON only on standard output
  --demo             (serve, start, demo) allow listening on a non-loopback interface without any admin key

For clean JSON through npm, silence npm's banner: npm run -s ask -- "question" --json (or npx kb ask … --json).
  -h, --help         this text

Settings (environment variables; a .env file in the working directory is read too):
${describeSettings()}
`;

const DEFAULT_CORPUS = 'docs-corpus';

function consoleLogger(quiet = false) {
  return {
    info: (message: string) => {
      if (!quiet) process.stderr.write(`${message}\n`);
    },
    warn: (message: string) => process.stderr.write(`warning: ${message}\n`),
  };
}

/** The knowledge base of a collection; ingesting into a collection that does not exist yet creates it. */
async function openCollection(config: Readonly<Config>, collection: string | undefined, logger: ReturnType<typeof consoleLogger>, create: boolean): Promise<KnowledgeBase> {
  if (!collection || collection === DEFAULT_COLLECTION) return KnowledgeBase.open(config, logger);
  const registry = new CollectionRegistry(config, logger, undefined, config.databaseUrl ? await sharedCollectionCatalog(config.databaseUrl) : undefined);
  if (!registry.find(collection)) {
    if (!create) throw new Error(`no collection "${collection}" (ingest into it to create it)`);
    await registry.create(collection, {});
  }
  return registry.get(collection);
}

async function runIngest(config: Readonly<Config>, paths: string[], json: boolean, collection?: string, given: { urlBase?: string; metadataFile?: string } = {}): Promise<IngestSummary> {
  const roots = paths.length > 0 ? paths : [DEFAULT_CORPUS];
  // Checked before the index is opened: a bad metadata file changes nothing.
  const documentOverrides = givenMetadata(roots, given);
  const knowledgeBase = await openCollection(config, collection, consoleLogger(json), true);
  const bar =
    process.stderr.isTTY && !json
      ? new cliProgress.SingleBar(
          { format: 'ingest [{bar}] {value}/{total} files | ETA {eta_formatted} | {file}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let started = false;
  try {
    const summary = await knowledgeBase.ingest(roots, {
      ...(documentOverrides ? { documentOverrides } : {}),
      onProgress: ({ done, total, file, ocrPages, ocrPagesTotal }) => {
        if (!bar) return;
        if (!started) {
          bar.start(total, 0, { file });
          started = true;
        }
        const name = file.length > 50 ? '…' + file.slice(-49) : file;
        bar.update(done, { file: ocrPagesTotal !== undefined ? `${name} (OCR page ${ocrPages}/${ocrPagesTotal})` : name });
      },
    });
    bar?.stop();
    for (const failure of summary.failed) process.stderr.write(`failed: ${failure.path}: ${failure.reason}\n`);
    if (json) process.stdout.write(JSON.stringify(summary) + '\n');
    else process.stdout.write(formatSummary(summary) + '\n');
    return summary;
  } finally {
    bar?.stop();
    await knowledgeBase.close();
  }
}

/** A server reachable from other machines must have an admin key, unless started explicitly as a demo. */
/** The deployment's API keys: the shared database's with KB_DATABASE_URL, else the data directory's. */
async function keyDirectoryOf(config: Readonly<Config>): Promise<KeyDirectory> {
  return config.databaseUrl ? sharedKeyDirectory(config.databaseUrl) : new LocalKeyDirectory(new KeyStore(config.dataDir));
}

async function refuseUnprotectedExposure(config: Readonly<Config>, demo: boolean): Promise<void> {
  if (isLoopback(config.host)) return;
  if (new Access(config, await keyDirectoryOf(config)).hasAdminKey) return;
  if (demo) {
    process.stderr.write(`warning: demo mode: listening on ${config.host} without any admin key; query routes need a key once one exists\n`);
    return;
  }
  throw new Error(`refusing to listen on ${config.host} without an admin key: create one with \`npm run kb -- keys create --scope admin\`, or start with --demo`);
}

async function runKeys(
  config: Readonly<Config>,
  args: string[],
  options: {
    scope: string | undefined;
    origins: string | undefined;
    collection: string | undefined;
    label: string | undefined;
    groups: string | undefined;
    rateLimit: string | undefined;
    json: boolean;
  },
): Promise<number> {
  const keys = await keyDirectoryOf(config);
  const [action, id] = args;
  if (action === 'create') {
    const scope = options.scope as Scope | undefined;
    if (!scope || !scopes.includes(scope)) throw new Error(`keys create needs --scope ${scopes.join('|')}`);
    const origins = options.origins?.split(/[\s,]+/).filter(Boolean);
    const groups = options.groups?.split(/[\s,]+/).filter(Boolean);
    const rateLimitPerMinute = options.rateLimit === undefined ? undefined : Number(options.rateLimit);
    const { key, record } = await keys.create({
      scope,
      ...(origins ? { origins } : {}),
      ...(groups ? { groups } : {}),
      ...(options.collection ? { collection: options.collection } : {}),
      ...(options.label ? { label: options.label } : {}),
      ...(rateLimitPerMinute !== undefined ? { rateLimitPerMinute } : {}),
    });
    if (options.json) process.stdout.write(JSON.stringify({ key, id: record.id, scope: record.scope }) + '\n');
    else process.stdout.write(`${key}\n(id ${record.id}, scope ${record.scope}${record.origins ? `, origins ${record.origins.join(' ')}` : ''}) — shown once, store it now.\n`);
    return 0;
  }
  if (action === 'list') {
    const all = (await keys.all()).map(({ hash: _hash, ...rest }) => rest);
    if (options.json) process.stdout.write(JSON.stringify(all) + '\n');
    else if (all.length === 0) process.stdout.write('no keys (create one with: kb keys create --scope admin)\n');
    else {
      for (const key of all) {
        const details = [
          key.revokedAt ? `revoked ${key.revokedAt}` : 'active',
          `collection ${key.collection ?? '(all)'}`,
          ...(key.groups ? [`groups ${key.groups.join(',')}`] : []),
          ...(key.origins ? [`origins ${key.origins.join(' ')}`] : []),
          `rate limit ${key.rateLimitPerMinute ? `${key.rateLimitPerMinute}/min` : 'default'}`,
          `created ${key.createdAt}`,
          ...(key.label ? [key.label] : []),
        ];
        process.stdout.write(`${key.id}  ${key.scope.padEnd(6)}  ${details.join('  ')}\n`);
      }
    }
    return 0;
  }
  if (action === 'revoke') {
    if (!id) throw new Error('keys revoke needs the key id (see keys list)');
    if (!(await keys.revoke(id))) {
      process.stderr.write(`no active key with id ${id}\n`);
      return 1;
    }
    process.stdout.write(`revoked ${id}\n`);
    return 0;
  }
  throw new Error('keys needs create, list or revoke');
}

async function runDocuments(config: Readonly<Config>, args: string[], json: boolean, collection?: string): Promise<number> {
  const [action, target] = args;
  if (action !== 'list' && action !== 'delete') throw new Error('documents needs list or delete');
  if (action === 'delete' && !target) throw new Error('documents delete needs a document id or source (see documents list)');
  const knowledgeBase = await openCollection(config, collection, consoleLogger(true), false);
  try {
    const store = knowledgeBase.storage.documents;
    if (action === 'list') {
      const documents = (await store.listDocuments()).map((document) => ({
        id: document.key,
        title: document.title,
        source: document.source,
        chunks: document.chunkCount,
        updatedAt: document.updatedAt,
      }));
      if (json) process.stdout.write(JSON.stringify(documents) + '\n');
      else if (documents.length === 0) process.stdout.write('no documents (index some with: kb ingest /path/to/docs)\n');
      else for (const document of documents) process.stdout.write(`${document.id}  ${String(document.chunks).padStart(5)} chunks  ${document.updatedAt}  ${document.source}\n`);
      return 0;
    }
    const document = (await store.getDocumentByKey(target!)) ?? (await store.getDocumentBySource(target!));
    if (!document) {
      process.stderr.write(`no document with id or source "${target}" (see: kb documents list)\n`);
      return 1;
    }
    await store.deleteDocument(document.source);
    await knowledgeBase.storage.flush();
    if (json) process.stdout.write(JSON.stringify({ deleted: document.key, source: document.source }) + '\n');
    else process.stdout.write(`deleted ${document.key} (${document.source}, ${document.chunkCount} chunks)\n`);
    return 0;
  } finally {
    await knowledgeBase.close();
  }
}

async function runServe(config: Readonly<Config>, demo = false): Promise<void> {
  await refuseUnprotectedExposure(config, demo);
  const logger = pino({ level: config.logLevel });
  // Searches and answers run in worker threads over the same index files, one per core: the main thread keeps HTTP,
  // access, jobs and writes (server/query-threads.ts).
  const threadCount = config.queryThreads ?? (availableParallelism() >= 2 ? availableParallelism() : 0);
  // The threads start once the main thread has opened the index (started together, they slowed its opening from 1.6
  // to 3 s at 78k chunks on two cores). Until every thread has its view, the main thread answers queries itself: the
  // server is ready when its index is loaded, and no query waits for a thread, nor fails if they cannot start.
  let threads: QueryThreads | undefined;
  const knowledgeBase = KnowledgeBase.open(config, { info: (message) => logger.info(message), warn: (message) => logger.warn(message) });
  if (threadCount > 0) {
    knowledgeBase
      .then(async (opened) => {
        threads = new QueryThreads(threadCount);
        await threads.open([opened.target()]);
        if (closing) return;
        useQueryThreads(threads);
        logger.info(`queries run in ${threadCount} worker thread${threadCount === 1 ? '' : 's'}`);
      })
      .catch((error: unknown) => logger.warn(`query threads unavailable, queries run in the main thread: ${describeError(error)}`));
  }
  // Several nodes sharing one database keep keys, jobs, collections, originals and rate limits there too.
  const components = config.databaseUrl ? await postgresComponents(config, logger, knowledgeBase) : undefined;
  const app = await buildApp({ config, knowledgeBase, logger, ...(components ? { components } : {}) });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info(`${signal} received: finishing requests in flight, then stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      async () => {
        await threads?.close();
        await closeDatabasePools();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const address = await app.listen({ host: config.host, port: config.port });
  knowledgeBase.then(
    async (opened) => {
      if ((await opened.storage.documents.documentCount()) === 0)
        process.stdout.write('The knowledge base is empty: index your documents with `npm run ingest -- /path/to/docs`, or try the demo with `npm run demo`.\n');
      const shown = address.replace('://127.0.0.1', '://localhost');
      logger.info(`ready: ${shown}  (API docs: ${shown}/docs, admin console: ${shown}/admin)`);
      process.stdout.write(`Knowledge base ready at ${shown}  —  try: curl -s ${shown}/v1/ask -H 'content-type: application/json' -d '{"question":"How do I reset my VPN password?"}'\n`);
    },
    (error: unknown) => logger.error(`the index could not be loaded: ${describeError(error)}`),
  );
}

async function runMigrateStore(config: Readonly<Config>, to: string | undefined, collection: string | undefined, json: boolean): Promise<number> {
  if (!to) throw new Error('migrate-store needs --to postgres://… (into PostgreSQL) or --to DIR (into the embedded store in DIR)');
  const toDatabase = /^postgres(ql)?:\/\//.test(to);
  const knowledgeBase = await openCollection(config, collection, consoleLogger(true), false);
  const targetConfig: Readonly<Config> = { ...knowledgeBase.config, databaseUrl: toDatabase ? to : undefined, dataDir: toDatabase ? knowledgeBase.config.dataDir : path.resolve(to) };
  if (targetConfig.databaseUrl === knowledgeBase.config.databaseUrl && targetConfig.dataDir === knowledgeBase.config.dataDir)
    throw new Error('migrate-store: the target is where the collection is now');
  const target = await openStorage(targetConfig, knowledgeBase.embedder);
  try {
    if ((await target.documents.documentCount()) > 0) throw new Error(`migrate-store: the target already holds documents; copy into an empty ${toDatabase ? 'database schema' : 'folder'}`);
    const bar = json ? undefined : new cliProgress.SingleBar({ format: 'copying [{bar}] {value}/{total} documents', hideCursor: true }, cliProgress.Presets.shades_classic);
    bar?.start(1, 0);
    const report = await copyStorage(knowledgeBase.storage, target, knowledgeBase.embedder, (done, total) => {
      bar?.setTotal(total);
      bar?.update(done);
    });
    bar?.stop();
    const verified = report.targetDocuments === report.documents && report.targetChunks === report.chunks;
    if (json) process.stdout.write(JSON.stringify({ ...report, verified }) + '\n');
    else
      process.stdout.write(
        `copied ${report.documents} documents, ${report.chunks} chunks; the target holds ${report.targetDocuments} documents, ${report.targetChunks} chunks${verified ? '' : ' (MISMATCH)'}\n`,
      );
    return verified ? 0 : 1;
  } finally {
    await target.close();
    await knowledgeBase.close();
    await closeDatabasePools();
  }
}

/** Mirrors a website into the collection's data folder (ingest/crawler.ts), then ingests the mirror incrementally. */
async function runCrawl(config: Readonly<Config>, start: string, json: boolean, collection: string | undefined, limits: SiteSyncLimits): Promise<SiteSyncReport> {
  const knowledgeBase = await openCollection(config, collection, consoleLogger(json), true);
  try {
    const report = await syncSite(knowledgeBase, start, limits, {
      onPage: (url, outcome, detail) => {
        if (!json) process.stderr.write(`${outcome.padEnd(9)} ${url}${detail ? ` (${detail})` : ''}\n`);
      },
    });
    for (const failure of report.failed) process.stderr.write(`failed: ${failure.path}: ${failure.reason}\n`);
    if (json) process.stdout.write(JSON.stringify(report) + '\n');
    else
      process.stdout.write(
        `crawled ${report.pages} pages (${report.notModified} not modified, ${report.crawlFailures.length} failed, ${report.gone} gone from the site); ${report.added} added, ${report.updated} updated, ${report.unchanged} unchanged, ${report.removed} removed\n`,
      );
    return report;
  } finally {
    await knowledgeBase.close();
  }
}

/** Brings the shared schema and every collection's schema up to date (each knowledge base migrates when opened). */
async function runMigrate(config: Readonly<Config>, json: boolean): Promise<number> {
  if (!config.databaseUrl) {
    process.stdout.write(json ? JSON.stringify({ backend: 'embedded', migrated: [] }) + '\n' : 'nothing to do: the embedded store (no KB_DATABASE_URL) checks its format when it is opened\n');
    return 0;
  }
  const shared = await migrateSharedSchema(poolFor(config.databaseUrl, config.databasePoolSize));
  const catalog = await sharedCollectionCatalog(config.databaseUrl);
  const registry = new CollectionRegistry(config, consoleLogger(json), undefined, catalog);
  const migrated: { schema: string; version: number }[] = [{ schema: SHARED_SCHEMA, version: shared.to }];
  for (const { name } of registry.list()) {
    const knowledgeBase = name === DEFAULT_COLLECTION ? await KnowledgeBase.open(config, consoleLogger(true)) : await registry.get(name);
    const status = await knowledgeBase.storage.describe();
    migrated.push({ schema: status.backend === 'postgresql' ? status.schema : name, version: status.backend === 'postgresql' ? status.schemaVersion : status.formatVersion });
    await knowledgeBase.close();
  }
  if (json) process.stdout.write(JSON.stringify({ backend: 'postgresql', migrated }) + '\n');
  else for (const entry of migrated) process.stdout.write(`${entry.schema}: version ${entry.version}\n`);
  return 0;
}

/** Where the knowledge bases are kept and their state, without opening an embedder or serving anything. */
async function runStatus(config: Readonly<Config>, json: boolean): Promise<number> {
  if (!config.databaseUrl) {
    const knowledgeBase = await KnowledgeBase.open(config, consoleLogger(true));
    try {
      const report = {
        backend: 'embedded',
        dataDir: config.dataDir,
        storage: await knowledgeBase.storage.describe(),
        documents: await knowledgeBase.storage.documents.documentCount(),
        chunks: (await knowledgeBase.storage.keywords.statistics()).chunkCount,
      };
      process.stdout.write(json ? JSON.stringify(report) + '\n' : `embedded store in ${report.dataDir}: ${report.documents} documents, ${report.chunks} chunks\n`);
      return 0;
    } finally {
      await knowledgeBase.close();
    }
  }
  const report = await databaseStatus(config.databaseUrl);
  if (json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    process.stdout.write(`database ${report.database}; shared schema version ${report.sharedSchemaVersion} (this build: ${report.expectedSharedSchemaVersion})\n`);
    for (const collection of report.collections)
      process.stdout.write(
        `  ${collection.name} (${collection.schema}): ${collection.schemaVersion === 0 ? 'not created yet' : `schema version ${collection.schemaVersion}, ${collection.documents} documents, ${collection.chunks} chunks`}\n`,
      );
    process.stdout.write(`jobs: ${report.jobs.queued} waiting, ${report.jobs.running} running\n`);
  }
  return report.sharedSchemaVersion === report.expectedSharedSchemaVersion ? 0 : 1;
}

async function runAsk(config: Readonly<Config>, question: string, json: boolean, collection?: string): Promise<void> {
  const knowledgeBase = await openCollection(config, collection, consoleLogger(true), false);
  try {
    const result = await knowledgeBase.ask({ question, scope: READ_EVERYTHING });
    if (json) {
      const { retrieval, ...rest } = result;
      process.stdout.write(JSON.stringify({ ...rest, query: retrieval.query }, null, 2) + '\n');
      return;
    }
    process.stdout.write(`${result.answer}\n`);
    for (const citation of result.citations) {
      const where = [citation.headings?.join(' > '), citation.page !== undefined ? `p. ${citation.page}` : undefined].filter(Boolean).join(', ');
      process.stdout.write(`  [${citation.n}] ${citation.title} (${citation.source}${where ? `; ${where}` : ''})\n`);
    }
    process.stdout.write(`confidence ${result.confidence}${result.answerable ? '' : ' (not answerable from the knowledge base)'}\n`);
  } finally {
    await knowledgeBase.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      demo: { type: 'boolean' },
      scope: { type: 'string' },
      origins: { type: 'string' },
      collection: { type: 'string' },
      label: { type: 'string' },
      groups: { type: 'string' },
      'rate-limit': { type: 'string' },
      'url-base': { type: 'string' },
      metadata: { type: 'string' },
      to: { type: 'string' },
      depth: { type: 'string' },
      'max-pages': { type: 'string' },
      'delay-ms': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return command || values.help ? 0 : 1;
  }
  loadDotEnv();
  const environment = { ...process.env };
  if (values['data-dir']) environment['KB_DATA_DIR'] = values['data-dir'];
  if (values.port) environment['PORT'] = values.port;
  if (values.host) environment['HOST'] = values.host;
  const config = loadConfig(environment);
  const json = values.json ?? false;
  switch (command) {
    case 'ingest': {
      const summary = await runIngest(config, rest, json, values.collection, {
        ...(values['url-base'] ? { urlBase: values['url-base'] } : {}),
        ...(values.metadata ? { metadataFile: values.metadata } : {}),
      });
      return summary.failed.length > 0 ? 1 : 0;
    }
    case 'start':
    case 'demo': {
      await refuseUnprotectedExposure(config, values.demo ?? false);
      // Demo documents only when asked: `start` without paths serves the index as it is.
      const paths = command === 'demo' ? [DEFAULT_CORPUS] : rest;
      if (paths.length > 0) {
        const summary = await runIngest(config, paths, false);
        if (summary.failed.length > 0) process.stderr.write(`${summary.failed.length} file(s) could not be indexed (see above); serving the rest.\n`);
      }
      await runServe(config, values.demo ?? false);
      return -1;
    }
    case 'documents':
      return runDocuments(config, rest, json, values.collection);
    case 'serve':
      await runServe(config, values.demo ?? false);
      return -1;
    case 'keys':
      return runKeys(config, rest, { scope: values.scope, origins: values.origins, collection: values.collection, label: values.label, groups: values.groups, rateLimit: values['rate-limit'], json });
    case 'crawl': {
      const whole = (name: string, value: string | undefined, fallback: number, minimum: number, maximum: number) => {
        if (value === undefined) return fallback;
        const number = Number(value);
        if (!Number.isInteger(number) || number < minimum || number > maximum) throw new Error(`--${name} takes a whole number from ${minimum} to ${maximum}, not "${value}"`);
        return number;
      };
      if (rest.length !== 1) throw new Error('crawl needs one start address: kb crawl https://intranet.example/help/');
      const summary = await runCrawl(config, rest[0]!, json, values.collection, {
        maxDepth: whole('depth', values.depth, DEFAULT_SITE_SYNC_LIMITS.maxDepth, 0, 100),
        maxPages: whole('max-pages', values['max-pages'], DEFAULT_SITE_SYNC_LIMITS.maxPages, 1, 100_000),
        delayMs: whole('delay-ms', values['delay-ms'], DEFAULT_SITE_SYNC_LIMITS.delayMs, 0, 60_000),
      });
      return summary.failed.length > 0 ? 1 : 0;
    }
    case 'migrate':
      return runMigrate(config, json);
    case 'status':
      return runStatus(config, json);
    case 'migrate-store':
      return runMigrateStore(config, values.to, values.collection, json);
    case 'ask':
      if (rest.length === 0) throw new Error('ask needs a question: kb ask "How do I reset my VPN password?"');
      await runAsk(config, rest.join(' '), json, values.collection);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${usage}`);
      return 1;
  }
}

/** Runs the command line and sets the exit code (used by `tsx src/cli.ts` and by the `kb` bin). */
export function run(argv: string[]): void {
  main(argv).then(
    async (code) => {
      // A command that ends (not a server) closes its database connections, or their sockets would keep it alive.
      if (code >= 0) await closeDatabasePools();
      if (code >= 0) process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${isKbError(error) ? `${error.message} (${error.code})` : describeError(error)}\n`);
      process.exitCode = 2;
    },
  );
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isEntryPoint) run(process.argv.slice(2));
