// The public API's schemas: they validate requests, type the handlers and generate the OpenAPI document at /docs.
import { z } from 'zod';

const MAX_QUESTION_CHARACTERS = 4000;

export const filtersSchema = z
  .strictObject({
    documentIds: z
      .array(z.string().regex(/^[0-9a-f]{16}$/, 'a document id is 16 hexadecimal characters'))
      .min(1)
      .max(100)
      .optional()
      .describe('only these documents'),
    source: z.string().min(1).max(1000).optional().describe('only documents whose source path starts with this prefix'),
    language: z.enum(['zh', 'en']).optional().describe('only chunks in this language'),
    tags: z.array(z.string().min(1).max(100)).min(1).max(20).optional().describe('only documents with any of these tags'),
    department: z.string().min(1).max(100).optional().describe('only documents of this department'),
  })
  .describe('optional restrictions on what is searched');

export const historyMessageSchema = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.string().min(1).max(8000),
});

const question = z
  .string()
  .max(MAX_QUESTION_CHARACTERS)
  .refine((value) => value.trim().length > 0, 'must not be empty or only white space');

const collectionField = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a collection name: lower-case letters, digits, - and _')
  .optional()
  .describe('collection to search (default "default")');

const collectionsField = z
  .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/))
  .min(1)
  .max(10)
  .optional()
  .describe('several collections searched at once, their results merged by rank (instead of collection)');

export const askBodySchema = z.strictObject({
  collection: collectionField,
  collections: collectionsField,
  question: question.describe('the question, in Chinese or English'),
  history: z.array(historyMessageSchema).max(20).optional().describe('previous turns of the conversation, oldest first'),
  topK: z.number().int().min(1).max(50).optional().describe('how many chunks to use as context (default KB_TOP_K)'),
  filters: filtersSchema.optional(),
  stream: z.boolean().optional().describe('answer as server-sent events (also chosen by Accept: text/event-stream)'),
});

export const citationSchema = z.object({
  n: z.number().int().describe('the number used in the answer text as [n]'),
  documentId: z.string(),
  title: z.string(),
  source: z.string().describe('path of the document in the knowledge base'),
  page: z.number().int().optional(),
  headings: z.array(z.string()).optional().describe('heading path of the cited section (for a spreadsheet: the sheet and its rows; for slides: the slide and its title)'),
  ocr: z.literal(true).optional().describe('the passage was read by OCR from a scanned page or an image: characters may be misread'),
  url: z.string().optional(),
  alternatives: z
    .array(z.object({ documentId: z.string(), title: z.string(), source: z.string(), page: z.number().int().optional() }))
    .optional()
    .describe('the same passage in other documents (another format or copy of this one), cited once'),
  fileUrl: z.string().optional().describe("a signed link (relative to this server, valid for an hour) to the document's original file"),
  snippet: z.string(),
  score: z.number(),
});

export const askResponseSchema = z.object({
  answerId: z.string().describe('id to send feedback about this answer (POST /v1/feedback)'),
  answer: z.string(),
  answerable: z.boolean().describe('false when the knowledge base does not contain the answer, and for small talk'),
  kind: z
    .enum(['answer', 'smalltalk', 'not_found'])
    .describe(
      'answer: from the knowledge base, with citations; smalltalk: a reply to a greeting, thanks, a test message or a bare keyword (it asks for a whole question), no citations; not_found: the knowledge base does not contain the answer',
    ),
  confidence: z.number().min(0).max(1),
  citations: z.array(citationSchema),
  language: z.enum(['zh', 'en']),
  answeredBy: z.enum(['extractive', 'llm', 'none', 'curated']).describe('curated: a reviewed answer of the help-desk team, matched to the question before retrieval'),
  fallback: z.object({ reason: z.string() }).optional().describe('present when the LLM failed and the extractive answer was used'),
  droppedCitations: z.array(z.number()).optional().describe('citation numbers in the model text that pointed to no source and were removed'),
  query: z.string().describe('the standalone query used for retrieval (differs from the question for follow-ups)'),
  timings: z.object({ retrieveMs: z.number(), generateMs: z.number(), totalMs: z.number() }),
});

export const searchBodySchema = z.strictObject({
  collection: collectionField,
  collections: collectionsField,
  query: question.describe('search text, in Chinese or English'),
  topK: z.number().int().min(1).max(100).optional().describe('number of results (default 10)'),
  filters: filtersSchema.optional(),
  expand: z
    .boolean()
    .optional()
    .describe('RM3 query expansion of English queries from the first results, as /v1/ask does (default false: a second keyword pass, about half the cost of a search on a large index)'),
});

export const searchResultSchema = z.object({
  chunkId: z.string().describe('stable id: documentId:ordinal'),
  documentId: z.string(),
  title: z.string(),
  source: z.string(),
  page: z.number().int().optional(),
  headings: z.array(z.string()).optional(),
  ocr: z.literal(true).optional().describe('read by OCR from a scanned page or an image'),
  url: z.string().optional().describe("the document's own link (a crawled page's address, or the URL given at upload)"),
  text: z.string(),
  score: z.number(),
});

export const searchResponseSchema = z.object({
  results: z.array(searchResultSchema),
  confidence: z.number().min(0).max(1).describe('how much of the query the best results contain'),
  timings: z.object({ totalMs: z.number() }),
});

export const errorResponseSchema = z.object({
  error: z.object({
    code: z.string().describe('stable error code, KB_ERR_*'),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  requestId: z.string(),
});

export const healthResponseSchema = z.object({ status: z.literal('ok') });
export const readyResponseSchema = z.object({
  status: z.enum(['ready', 'loading', 'failed']),
  documents: z.number().int().optional(),
  chunks: z.number().int().optional(),
  embedder: z.string().optional(),
  answerer: z.string().optional(),
  /** The storage backend and its layout version (the embedded format, or the PostgreSQL schema's migration). */
  storage: z
    .union([z.object({ backend: z.literal('embedded'), formatVersion: z.number().int() }), z.object({ backend: z.literal('postgresql'), schema: z.string(), schemaVersion: z.number().int() })])
    .optional(),
  /** Where keys, jobs, collections and the answers log live; for PostgreSQL, the shared schema's migration state. */
  sharedState: z
    .object({
      backend: z.enum(['embedded', 'postgresql']),
      schemaVersion: z.number().int().optional(),
      expectedSchemaVersion: z.number().int().optional(),
      database: z.enum(['reachable', 'unreachable']).optional(),
      message: z.string().optional(),
    })
    .optional(),
  message: z.string().optional(),
});

export const feedbackBodySchema = z.strictObject({
  answerId: z.uuid().describe('the answerId of a /v1/ask response'),
  rating: z.enum(['up', 'down']),
  comment: z.string().max(2000).optional(),
});
export const feedbackResponseSchema = z.object({ status: z.literal('recorded') });

export const widgetSessionBodySchema = z.strictObject({
  key: z.string().min(1).max(100).describe('the public widget key from the script tag (data-key)'),
  user: z.string().min(1).max(4000).optional().describe('end user the host page vouches for (data-user-token): a signed token when KB_USER_TOKEN_SECRET is set, else a plain id'),
});
export const widgetSessionResponseSchema = z.object({
  token: z.string().describe('send as Authorization: Bearer <token> from the same page origin'),
  expiresAt: z.string(),
});
