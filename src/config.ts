// Every setting, read once from the environment (and a .env file), validated with zod, then frozen.
// Tuning constants live here too, each with the range in which it is useful; changing one needs an evaluation run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KbError } from './errors.ts';
import type { OcrOptions } from './ingest/ocr/ocr.ts';

const integer = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const decimal = (min: number, max: number, fallback: number) => z.coerce.number().min(min).max(max).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** Each entry: environment variable → schema. The description is shown by `--help` and in the README table. */
export const settingDescriptions: Record<string, string> = {
  KB_DATA_DIR: 'where the index lives (SQLite database, vector index, manifest)',
  KB_DATABASE_URL:
    'postgres://user:password@host:5432/database: documents, chunks, keyword postings and vectors in PostgreSQL (one schema per collection; pgvector when vectors are searched) instead of the data directory; unset: the embedded store',
  HOST: 'interface the HTTP server binds to',
  PORT: 'HTTP port',
  KB_MODELS_DIR: 'folder with local ONNX models for transformers.js (one sub-folder per model id)',
  KB_EMBEDDER: 'auto | builtin | transformers. auto uses the transformers.js model when it is installed, else the built-in embedder',
  KB_EMBEDDING_MODEL: 'model id under KB_MODELS_DIR for the transformers.js embedder',
  KB_ALLOW_REMOTE_MODELS: 'let transformers.js download models from a hub (off: models are read from KB_MODELS_DIR only)',
  KB_LLM_BASE_URL: 'OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://localhost:11434/v1 (empty: built-in extractive answers)',
  KB_LLM_API_KEY: 'API key for the LLM endpoint',
  KB_LLM_MODEL: 'model name sent to the LLM endpoint',
  KB_LLM_TIMEOUT_MS: 'time allowed for one LLM call before falling back to the extractive answer (1000..600000)',
  KB_LLM_CONCURRENCY: 'LLM calls at once (1..256); more wait in a queue',
  KB_LLM_QUEUE: 'LLM calls that may wait (0..10000); beyond it questions get 503 with Retry-After',
  KB_MAX_IN_FLIGHT: 'requests worked on at once (1..100000); beyond it the API answers 503 with Retry-After at once (/healthz, /readyz and /metrics are never refused)',
  KB_REQUEST_TIMEOUT_MS: 'longest time a request may take before the server answers 408/closes it (1000..3600000)',
  KB_TRUST_PROXY:
    'behind a load balancer or reverse proxy: how many proxy hops to trust (1..10), or their addresses (comma-separated IPs or CIDRs), so that per-address limits and logs see the client, not the proxy (empty: trust none)',
  KB_LLM_MAX_TOKENS: 'maximum tokens of a generated answer (16..8192)',
  KB_TOP_K: 'chunks cited per answer by default (1..50)',
  KB_CHUNK_TOKENS: 'chunk size in tokens; a CJK character or a Latin word counts as one (50..2000)',
  KB_CHUNK_OVERLAP: 'tokens repeated between consecutive chunks of a section (0..500, less than KB_CHUNK_TOKENS/2)',
  KB_BM25_K1: 'BM25 term-frequency saturation (0.5..3.0)',
  KB_BM25_B: 'BM25 length normalisation (0..1)',
  KB_RRF_K: 'reciprocal-rank-fusion constant: larger flattens the rank curve (1..200)',
  KB_FUSION_KEYWORD_WEIGHT: 'weight of the BM25 list in reciprocal-rank fusion (0..2)',
  KB_FUSION_DENSE_WEIGHT: 'weight of the vector list in reciprocal-rank fusion (0..2; 0 turns dense retrieval off); auto: 1 with a transformers.js model, 0 with the built-in embedder',
  KB_PAIR_WEIGHT: 'weight of adjacent English word pairs in BM25 queries, relative to single words (0..1)',
  KB_RERANKER_MODEL: 'cross-encoder model id under KB_MODELS_DIR, used to rerank when installed (empty: never)',
  KB_RERANK_CANDIDATES: 'fused candidates the reranker reads (5..100)',
  KB_MMR_LAMBDA: 'maximal-marginal-relevance trade-off for the context: 1 keeps the relevance order, lower values push near-duplicates down (0.5..1)',
  KB_CJK_TOKENIZER: 'bigram | jieba | segmenter | jieba+bigram: how Chinese text becomes keyword terms (rebuild the index after a change)',
  KB_RM3: 'RM3 pseudo-relevance feedback on the keyword search of English queries: off, or "documents,terms,originalWeight" (1..50, 5..100, 0..1)',
  KB_CANDIDATES: 'candidates taken from each of BM25 and dense retrieval before fusion (10..1000)',
  KB_ANSWER_THRESHOLD: 'confidence below which the answer is "not in the knowledge base" (0..1)',
  KB_MAX_INDEX_MB: "largest size of a collection's database in MiB (0: no limit); beyond it ingestion stops with a clear error and nothing half-written",
  KB_HNSW_M: 'HNSW graph degree (4..64)',
  KB_HNSW_EF_CONSTRUCTION: 'HNSW build-time beam width (16..800)',
  KB_HNSW_EF_SEARCH: 'HNSW query-time beam width (16..800)',
  KB_EMBED_BATCH: 'texts embedded per batch during ingestion (1..256)',
  KB_QUERY_THREADS: 'worker threads that run searches and answers in a server (0..64; 0: in the main thread); default: the number of cores when there are two or more, so that serving uses every core',
  KB_INGEST_THREADS:
    'worker threads that parse, chunk and tokenize files during ingestion (0..64; 0: in the main thread); default: 1 in a server (its event loop keeps answering queries), 0 on the command line (faster alone)',
  KB_OCR_MAX_PAGES: 'pages of one file read by OCR at most (scanned PDF pages, image files); pages past it are left out and the file says so (0..10000; 0: OCR off)',
  KB_OCR_FILE_SECONDS: 'seconds of OCR one file may take; pages not read by then are left out and the file says so (10..86400)',
  KB_SYNC_CHECK_SECONDS: 'how often a server looks for scheduled website re-syncs that are due (1..3600)',
  KB_LOG_RETENTION_DAYS: 'days the questions, answers and feedback of the conversation log are kept (0..36500; 0: forever)',
  KB_BODY_LIMIT: 'largest accepted HTTP request body in bytes',
  KB_API_KEYS: 'comma-separated API keys for server-to-server clients (empty: the API is open to clients without an Origin header, for local use)',
  KB_WIDGET_KEYS: 'public widget keys and the page origins each may be used from: "pk_a=https://help.example.com https://intranet.example.com;pk_b=…"; "self" means this server\'s own origin',
  KB_SESSION_SECRET: 'secret that signs widget session tokens (empty: a random one per start, so sessions end with a restart)',
  KB_USER_TOKEN_SECRET: 'secret the host page backend signs end-user tokens (data-user-token) with; their groups decide what the user reads (empty: user ids are plain labels without groups)',
  KB_SESSION_TTL_SECONDS: 'lifetime of a widget session token (60..86400)',
  KB_CONSOLE_SESSION_HOURS: 'lifetime of an admin console sign-in, in hours (1..168)',
  KB_RATE_LIMIT_PER_MINUTE: 'requests per minute per widget session, API key or client IP (1..100000000)',
  KB_RATE_LIMIT_PER_IP_PER_MINUTE: 'requests per minute from one client address, whatever widget sessions it uses; API keys are held to their own limit instead (1..100000000)',
  KB_RATE_LIMIT_ADMIN_PER_MINUTE: 'requests per minute per admin key, unless the key was created with its own --rate-limit (1..100000000)',
  KB_UPLOAD_MAX_BYTES: 'largest file accepted by POST /v1/collections/:c/documents, in bytes',
  KB_UPLOAD_MAX_FILES: 'most files in one upload request (1..100)',
  KB_JOB_QUEUE: 'ingestion jobs that may wait while one runs; more are refused with 503 (1..1000)',
  KB_DATABASE_POOL_SIZE: 'with KB_DATABASE_URL: connections each process (and each query thread) keeps open to the database (1..100)',
  KB_JOB_LEASE_SECONDS:
    'with KB_DATABASE_URL: seconds a node holds a running job without renewing it (renewed every third of it); a job whose node stopped is taken over by another after this (5..3600)',
  KB_LOG_LEVEL: 'fatal | error | warn | info | debug | trace | silent',
};

const configSchema = z
  .object({
    KB_DATA_DIR: z.string().min(1).default('./data'),
    KB_DATABASE_URL: z.preprocess(
      (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
      z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// connection URL')
        .optional(),
    ),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: integer(0, 65535, 3000),
    KB_MODELS_DIR: z.string().min(1).default('./models'),
    KB_EMBEDDER: z.enum(['auto', 'builtin', 'transformers']).default('auto'),
    KB_EMBEDDING_MODEL: z.string().min(1).default('Xenova/multilingual-e5-small'),
    KB_ALLOW_REMOTE_MODELS: flag(false),
    KB_LLM_BASE_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    KB_LLM_API_KEY: optionalText,
    KB_LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
    KB_LLM_TIMEOUT_MS: integer(1000, 600000, 30000),
    KB_LLM_MAX_TOKENS: integer(16, 8192, 600),
    KB_LLM_CONCURRENCY: integer(1, 256, 4),
    KB_LLM_QUEUE: integer(0, 10000, 32),
    KB_MAX_IN_FLIGHT: integer(1, 100000, 64),
    KB_REQUEST_TIMEOUT_MS: integer(1000, 3_600_000, 120_000),
    KB_TRUST_PROXY: optionalText.pipe(
      z
        .string()
        .regex(/^(?:(?:[1-9]|10)|(?:[0-9a-fA-F.:]+(?:\/\d{1,3})?)(?:\s*,\s*[0-9a-fA-F.:]+(?:\/\d{1,3})?)*)$/, 'a number of hops from 1 to 10, or comma-separated IP addresses or CIDRs')
        .optional(),
    ),
    KB_TOP_K: integer(1, 50, 5),
    KB_CHUNK_TOKENS: integer(50, 2000, 300),
    KB_CHUNK_OVERLAP: integer(0, 500, 40),
    KB_BM25_K1: decimal(0.5, 3, 1.2),
    KB_BM25_B: decimal(0, 1, 0.75),
    KB_RRF_K: integer(1, 200, 60),
    KB_FUSION_KEYWORD_WEIGHT: decimal(0, 2, 1),
    KB_FUSION_DENSE_WEIGHT: z.union([z.literal('auto'), z.coerce.number().min(0).max(2)]).default('auto'),
    KB_PAIR_WEIGHT: decimal(0, 1, 0),
    KB_RERANKER_MODEL: z.string().default('Xenova/bge-reranker-base'),
    KB_RERANK_CANDIDATES: integer(5, 100, 20),
    KB_MMR_LAMBDA: decimal(0.5, 1, 1),
    // 'auto' is still accepted (older .env files) and means the default, off.
    KB_CJK_TOKENIZER: z.enum(['bigram', 'jieba', 'segmenter', 'jieba+bigram']).default('bigram'),
    KB_RM3: z
      .string()
      .default('5,20,0.6')
      .transform((value, context) => {
        if (value === 'off' || value === '') return undefined;
        const [documents, terms, originalWeight] = value.split(',').map(Number);
        const valid = Number.isInteger(documents) && documents! >= 1 && documents! <= 50 && Number.isInteger(terms) && terms! >= 5 && terms! <= 100 && originalWeight! >= 0 && originalWeight! <= 1;
        if (!valid) {
          context.addIssue({ code: 'custom', message: 'expected "off" or "documents,terms,originalWeight" with documents 1..50, terms 5..100, originalWeight 0..1' });
          return z.NEVER;
        }
        return { documents: documents!, terms: terms!, originalWeight: originalWeight! };
      }),
    KB_CANDIDATES: integer(10, 1000, 100),
    KB_ANSWER_THRESHOLD: decimal(0, 1, 0.5),
    KB_MAX_INDEX_MB: integer(0, 10_000_000, 0),
    KB_HNSW_M: integer(4, 64, 16),
    KB_HNSW_EF_CONSTRUCTION: integer(16, 800, 200),
    KB_HNSW_EF_SEARCH: integer(16, 800, 100),
    KB_EMBED_BATCH: integer(1, 256, 32),
    KB_QUERY_THREADS: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.coerce.number().int().min(0).max(64).optional()),
    KB_INGEST_THREADS: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.coerce.number().int().min(0).max(64).optional()),
    KB_OCR_MAX_PAGES: integer(0, 10_000, 100),
    KB_OCR_FILE_SECONDS: integer(10, 86_400, 900),
    KB_SYNC_CHECK_SECONDS: integer(1, 3600, 60),
    KB_LOG_RETENTION_DAYS: integer(0, 36_500, 365),
    KB_BODY_LIMIT: integer(1024, 100 * 1024 * 1024, 1024 * 1024),
    KB_API_KEYS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(16, 'an API key must have at least 16 characters'))),
    KB_WIDGET_KEYS: z
      .string()
      .default('pk_demo=self')
      .transform((value, context) => {
        const keys = new Map<string, string[]>();
        for (const entry of value
          .split(';')
          .map((part) => part.trim())
          .filter(Boolean)) {
          const [key, origins] = entry.split('=');
          const list = (origins ?? '').split(/[\s,]+/).filter(Boolean);
          const valid = key && /^pk_[A-Za-z0-9_-]{2,64}$/.test(key.trim()) && list.length > 0 && list.every((origin) => origin === 'self' || /^https?:\/\/[^/\s]+$/.test(origin));
          if (!valid) {
            context.addIssue({ code: 'custom', message: `"${entry}" is not "pk_name=origin origin…" (origins like https://host:port, or self)` });
            return z.NEVER;
          }
          keys.set(key!.trim(), list);
        }
        return keys;
      }),
    KB_SESSION_SECRET: optionalText.pipe(z.string().min(32, 'must have at least 32 characters').optional()),
    KB_USER_TOKEN_SECRET: optionalText.pipe(z.string().min(32, 'must have at least 32 characters').optional()),
    KB_SESSION_TTL_SECONDS: integer(60, 86400, 3600),
    KB_CONSOLE_SESSION_HOURS: integer(1, 168, 8),
    KB_RATE_LIMIT_PER_MINUTE: integer(1, 100_000_000, 60),
    KB_RATE_LIMIT_PER_IP_PER_MINUTE: integer(1, 100_000_000, 600),
    KB_RATE_LIMIT_ADMIN_PER_MINUTE: integer(1, 100_000_000, 6000),
    KB_UPLOAD_MAX_BYTES: integer(1024, 1024 * 1024 * 1024, 50 * 1024 * 1024),
    KB_UPLOAD_MAX_FILES: integer(1, 100, 20),
    KB_JOB_QUEUE: integer(1, 1000, 10),
    KB_DATABASE_POOL_SIZE: integer(1, 100, 8),
    KB_JOB_LEASE_SECONDS: integer(5, 3600, 30),
    KB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((value) => value.KB_CHUNK_OVERLAP * 2 < value.KB_CHUNK_TOKENS, {
    message: 'KB_CHUNK_OVERLAP must be less than half of KB_CHUNK_TOKENS',
    path: ['KB_CHUNK_OVERLAP'],
  });

type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  dataDir: string;
  /** PostgreSQL for the indexes (KB_DATABASE_URL); undefined: the embedded store in dataDir. */
  databaseUrl: string | undefined;
  /** Connections per process to it (KB_DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  /** The collection this configuration opens ("default", or a named one: collections/registry.ts configOf). */
  collection: string;
  host: string;
  port: number;
  modelsDir: string;
  embedder: 'auto' | 'builtin' | 'transformers';
  embeddingModel: string;
  allowRemoteModels: boolean;
  /** Requests worked on at once; more get 503 with Retry-After (see server/plugins/in-flight.ts). */
  maxInFlight: number;
  llm: { baseUrl: string | undefined; apiKey: string | undefined; model: string; timeoutMs: number; maxTokens: number; concurrency: number; queue: number };
  requestTimeoutMs: number;
  /** Fastify's trustProxy: hops (a number) or addresses; undefined trusts no proxy. */
  trustProxy: number | string | undefined;
  retrieval: {
    topK: number;
    bm25K1: number;
    bm25B: number;
    rrfK: number;
    keywordWeight: number;
    denseWeight: number | 'auto';
    candidates: number;
    answerThreshold: number;
    pairWeight: number;
    feedback: { documents: number; terms: number; originalWeight: number } | undefined;
  };
  chunking: { maxTokens: number; overlapTokens: number };
  cjkTokenizer: 'bigram' | 'jieba' | 'segmenter' | 'jieba+bigram';
  reranker: { model: string | undefined; candidates: number };
  mmrLambda: number;
  hnsw: { m: number; efConstruction: number; efSearch: number; maxDatabaseMegabytes?: number };
  embedBatch: number;
  /**
   * Worker threads of an ingest (parse, chunk, tokenize); 0: the main thread; undefined: 1 in a server, 0 on the
   * command line. Measured on two cores: a second worker thread gains nothing (two parse at 0.55× the speed of one),
   * and one worker costs a CLI ingest 15% (results copied between threads); a server needs its event loop free.
   */
  ingestThreads: number | undefined;
  /** Query threads of a server (server/query-threads.ts); undefined: one per core when there are two or more. */
  queryThreads: number | undefined;
  /** OCR's limits per file: a 20-page scan takes about two minutes on one core (docs/EVALUATION.md). */
  ocr: OcrOptions;
  /** How often due re-sync schedules are looked for (ms). */
  syncCheckMilliseconds: number;
  /** Days the conversation log keeps an answer (0: forever). A year by default: enough to see a trend, not a dossier. */
  logRetentionDays: number;
  bodyLimit: number;
  uploads: { maxBytes: number; maxFiles: number; maxQueuedJobs: number; jobLeaseSeconds: number };
  access: {
    apiKeys: string[];
    /** Public widget key → origins it may be used from ("self": the server's own origin). */
    widgetKeys: Map<string, string[]>;
    sessionSecret: string | undefined;
    userTokenSecret: string | undefined;
    sessionTtlSeconds: number;
    /** Lifetime of an admin console session (hours). */
    consoleSessionHours: number;
    rateLimitPerMinute: number;
    rateLimitPerIpPerMinute: number;
    /** Admin keys run scripts (uploads, reindexing): a higher default than query keys and widget sessions. */
    adminRateLimitPerMinute: number;
  };
  logLevel: RawConfig['KB_LOG_LEVEL'];
}

/** Reads `.env` from the working directory (if present) without overriding variables already set. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(environment: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(settingDescriptions)) picked[key] = environment[key];
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new KbError('KB_ERR_CONFIG', { details });
  }
  const raw = parsed.data;
  const config: Config = {
    dataDir: path.resolve(raw.KB_DATA_DIR),
    databaseUrl: raw.KB_DATABASE_URL,
    databasePoolSize: raw.KB_DATABASE_POOL_SIZE,
    collection: 'default',
    host: raw.HOST,
    port: raw.PORT,
    modelsDir: path.resolve(raw.KB_MODELS_DIR),
    embedder: raw.KB_EMBEDDER,
    embeddingModel: raw.KB_EMBEDDING_MODEL,
    allowRemoteModels: raw.KB_ALLOW_REMOTE_MODELS,
    llm: {
      baseUrl: raw.KB_LLM_BASE_URL,
      apiKey: raw.KB_LLM_API_KEY,
      model: raw.KB_LLM_MODEL,
      timeoutMs: raw.KB_LLM_TIMEOUT_MS,
      maxTokens: raw.KB_LLM_MAX_TOKENS,
      concurrency: raw.KB_LLM_CONCURRENCY,
      queue: raw.KB_LLM_QUEUE,
    },
    requestTimeoutMs: raw.KB_REQUEST_TIMEOUT_MS,
    trustProxy: raw.KB_TRUST_PROXY === undefined ? undefined : /^\d+$/.test(raw.KB_TRUST_PROXY) ? Number(raw.KB_TRUST_PROXY) : raw.KB_TRUST_PROXY,
    maxInFlight: raw.KB_MAX_IN_FLIGHT,
    retrieval: {
      topK: raw.KB_TOP_K,
      bm25K1: raw.KB_BM25_K1,
      bm25B: raw.KB_BM25_B,
      rrfK: raw.KB_RRF_K,
      keywordWeight: raw.KB_FUSION_KEYWORD_WEIGHT,
      denseWeight: raw.KB_FUSION_DENSE_WEIGHT,
      candidates: raw.KB_CANDIDATES,
      answerThreshold: raw.KB_ANSWER_THRESHOLD,
      feedback: raw.KB_RM3,
      pairWeight: raw.KB_PAIR_WEIGHT,
    },
    chunking: { maxTokens: raw.KB_CHUNK_TOKENS, overlapTokens: raw.KB_CHUNK_OVERLAP },
    cjkTokenizer: raw.KB_CJK_TOKENIZER,
    reranker: { model: raw.KB_RERANKER_MODEL.trim() || undefined, candidates: raw.KB_RERANK_CANDIDATES },
    mmrLambda: raw.KB_MMR_LAMBDA,
    hnsw: { m: raw.KB_HNSW_M, efConstruction: raw.KB_HNSW_EF_CONSTRUCTION, efSearch: raw.KB_HNSW_EF_SEARCH, ...(raw.KB_MAX_INDEX_MB > 0 ? { maxDatabaseMegabytes: raw.KB_MAX_INDEX_MB } : {}) },
    embedBatch: raw.KB_EMBED_BATCH,
    ingestThreads: raw.KB_INGEST_THREADS,
    queryThreads: raw.KB_QUERY_THREADS,
    ocr: { maxPages: raw.KB_OCR_MAX_PAGES, fileSeconds: raw.KB_OCR_FILE_SECONDS },
    syncCheckMilliseconds: raw.KB_SYNC_CHECK_SECONDS * 1000,
    logRetentionDays: raw.KB_LOG_RETENTION_DAYS,
    bodyLimit: raw.KB_BODY_LIMIT,
    uploads: { maxBytes: raw.KB_UPLOAD_MAX_BYTES, maxFiles: raw.KB_UPLOAD_MAX_FILES, maxQueuedJobs: raw.KB_JOB_QUEUE, jobLeaseSeconds: raw.KB_JOB_LEASE_SECONDS },
    access: {
      apiKeys: raw.KB_API_KEYS,
      widgetKeys: raw.KB_WIDGET_KEYS,
      sessionSecret: raw.KB_SESSION_SECRET,
      userTokenSecret: raw.KB_USER_TOKEN_SECRET,
      sessionTtlSeconds: raw.KB_SESSION_TTL_SECONDS,
      consoleSessionHours: raw.KB_CONSOLE_SESSION_HOURS,
      rateLimitPerMinute: raw.KB_RATE_LIMIT_PER_MINUTE,
      rateLimitPerIpPerMinute: raw.KB_RATE_LIMIT_PER_IP_PER_MINUTE,
      adminRateLimitPerMinute: raw.KB_RATE_LIMIT_ADMIN_PER_MINUTE,
    },
    logLevel: raw.KB_LOG_LEVEL,
    ...overrides,
  };
  return Object.freeze(config);
}

export function describeSettings(): string {
  const width = Math.max(...Object.keys(settingDescriptions).map((key) => key.length));
  return Object.entries(settingDescriptions)
    .map(([key, description]) => `  ${key.padEnd(width)}  ${description}`)
    .join('\n');
}
