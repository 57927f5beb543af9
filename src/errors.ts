// The one catalogue of errors a user can see: a stable code, an HTTP status and a message that says what to do.
// Every module throws KbError with a code from here; the HTTP layer maps it to a response without a stack trace.
import { accessSync, constants } from 'node:fs';

export const errorCatalogue = {
  KB_ERR_VALIDATION: { status: 400, message: 'The request is invalid: {details}' },
  KB_ERR_BAD_JSON: { status: 400, message: 'The request body is not valid JSON: {details}' },
  KB_ERR_NOT_FOUND: { status: 404, message: 'No route {method} {url}. See /docs for the API.' },
  KB_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than {limit} bytes.' },
  KB_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type {contentType} is not supported; send application/json.' },
  KB_ERR_UNAUTHORIZED: { status: 401, message: '{details}' },
  KB_ERR_FORBIDDEN: { status: 403, message: '{details}' },
  KB_ERR_CSRF: { status: 403, message: 'The request has no valid CSRF token: {details}.' },
  KB_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests: at most {max} per minute. Retry in {retryAfter} seconds.' },
  KB_ERR_UNKNOWN_ANSWER: { status: 404, message: 'No answer with id {answerId}: feedback refers to the answerId of a /v1/ask response.' },
  KB_ERR_UNKNOWN_MODEL: { status: 404, message: 'No model "{model}": GET /v1/models lists the knowledge bases available as models.' },
  KB_ERR_CONFLICT: { status: 409, message: '{details}' },
  KB_ERR_UNKNOWN_COLLECTION: { status: 404, message: 'No collection "{collection}".' },
  KB_ERR_UNKNOWN_DOCUMENT: { status: 404, message: 'No document {documentId} in collection "{collection}".' },
  KB_ERR_FILE_UNAVAILABLE: { status: 404, message: 'The original file of document {documentId} is not available on this server ({details}).' },
  KB_ERR_UNKNOWN_JOB: { status: 404, message: 'No job {jobId}.' },
  KB_ERR_UNKNOWN_KEY: { status: 404, message: 'No active API key with id {keyId} (GET /v1/keys lists them).' },
  KB_ERR_UNKNOWN_CURATED: { status: 404, message: 'No curated answer {curatedId} in collection "{collection}".' },
  KB_ERR_UNKNOWN_SCHEDULE: { status: 404, message: 'No sync schedule {scheduleId} in collection "{collection}".' },
  KB_ERR_UPLOAD_REJECTED: { status: 415, message: 'Upload refused: {details}' },
  KB_ERR_BUSY: { status: 503, message: '{details} Retry in {retryAfter} seconds.' },
  KB_ERR_NOT_READY: { status: 503, message: 'The knowledge base is not loaded yet: {details}' },
  KB_ERR_INTERNAL: { status: 500, message: 'An internal error occurred (request {requestId}). The server log has the details.' },
  KB_ERR_CONFIG: { status: 500, message: 'Invalid configuration: {details}' },
  KB_ERR_INDEX_MISMATCH: {
    status: 500,
    message: 'The index in {dataDir} was built with {found}, but this server uses {expected}. Rebuild it: delete {dataDir} (or set KB_DATA_DIR to a new folder) and run `npm run ingest`.',
  },
  KB_ERR_INDEX_TOKENIZER: {
    status: 500,
    message:
      'The index in {dataDir} was built with the "{found}" Chinese tokenizer, but KB_CJK_TOKENIZER is "{expected}": its keyword index would not match the questions. Set KB_CJK_TOKENIZER={found}, or rebuild: delete {dataDir} (or set KB_DATA_DIR to a new folder) and run `npm run ingest`.',
  },
  KB_ERR_INDEX_VERSION: {
    status: 500,
    message: 'The index in {dataDir} has format version {found}; this build reads version {expected}. Rebuild it: delete {dataDir} and run `npm run ingest`.',
  },
  KB_ERR_INDEX_CORRUPT: { status: 500, message: 'The index in {dataDir} cannot be read ({details}). Delete it and run `npm run ingest`.' },
  KB_ERR_STORAGE_FULL: {
    status: 507,
    message: 'The index in {dataDir} is full ({details}). Free disk space or raise KB_MAX_INDEX_MB, then run the ingestion again: documents written so far are complete.',
  },
  KB_ERR_STORAGE_READ_ONLY: { status: 503, message: 'The data directory {dataDir} cannot be written ({details}). Make it writable; nothing was changed.' },
  KB_ERR_PARSE: { status: 422, message: 'Cannot parse {file}: {reason}' },
  KB_ERR_UNSUPPORTED_FORMAT: { status: 415, message: 'Cannot ingest {file}: {reason}' },
  KB_ERR_EMBEDDER: { status: 500, message: 'The embedding model failed: {details}' },
  KB_ERR_LLM: { status: 502, message: 'The language model endpoint failed: {details}' },
  KB_ERR_LLM_TIMEOUT: { status: 504, message: 'The language model did not answer within {timeoutMs} ms.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

function fill(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

export class KbError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  /** Extra structured information for the response body (for example field-level validation issues). */
  readonly extra: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, values: Record<string, unknown> = {}, options: { cause?: unknown; extra?: Record<string, unknown>; retryable?: boolean } = {}) {
    super(fill(errorCatalogue[code].message, values), { cause: options.cause });
    this.name = 'KbError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = values;
    this.extra = options.extra;
    this.retryable = options.retryable ?? false;
  }
}

export function isKbError(error: unknown): error is KbError {
  return error instanceof KbError;
}

/** A short, single-line description of any thrown value, for logs and per-file reports. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

/** A storage failure as the user should read it: a full disk or quota, or a folder that cannot be written. */
export function storageError(error: unknown, dataDir: string): KbError | undefined {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  const details = describeError(error);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return new KbError('KB_ERR_STORAGE_FULL', { dataDir, details }, { cause: error });
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new KbError('KB_ERR_STORAGE_READ_ONLY', { dataDir, details }, { cause: error });
  // SQLite says only "unable to open database file" when it cannot create a file in a folder it may not write.
  if (code === 'SQLITE_CANTOPEN' && !isWritable(dataDir)) return new KbError('KB_ERR_STORAGE_READ_ONLY', { dataDir, details }, { cause: error });
  return undefined;
}

function isWritable(directory: string): boolean {
  try {
    accessSync(directory, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
