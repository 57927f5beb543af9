// Documents over HTTP: upload files (multipart) or text (JSON), list (searched and filtered by the store), read, show
// their chunks, delete, reindex; ingestion runs as a background job (routes/jobs.ts) while the server keeps answering. Uploads are checked by content (magic bytes),
// not only by name, and kept (files/original-files.ts) so that a reindex can parse them again, on any node.
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DocumentQuery, DocumentRecord } from '../../store/types.ts';
import { assertCollectionAllowed, readScopeOf, type Access } from '../access/access.ts';
import { READ_EVERYTHING, mayRead, type ReadScope } from '../../retrieve/read-scope.ts';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { KbError, isKbError } from '../../errors.ts';
import { checkContent } from '../../ingest/parsers/index.ts';
import { DOCUMENT_FORMATS, formatByExtension } from '../../ingest/formats.ts';
import type { OriginalFiles } from '../../files/original-files.ts';
import type { DocumentOverrides } from '../../ingest/pipeline.ts';
import type { JobQueue } from '../../jobs/types.ts';
import type { KnowledgeBaseHolder } from '../knowledge-base-holder.ts';
import { errorResponseSchema } from '../schemas.ts';
import { jobSchema } from './jobs.ts';
import { originalFileOf } from './citation-links.ts';

const collectionParams = z.object({ collection: z.string().min(1).max(64) });
const documentParams = collectionParams.extend({ documentId: z.string().regex(/^[0-9a-f]{16}$/, 'a document id is 16 hexadecimal characters') });
const metadataSchema = z.strictObject({
  title: z.string().trim().min(1).max(300).optional().describe('the title of the one uploaded file (else the title found in the file)'),
  tags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
  department: z.string().trim().min(1).max(100).optional(),
  groups: z.array(z.string().trim().min(1).max(100)).max(50).optional().describe('groups allowed to read the document; absent: everyone'),
  url: z.url({ protocol: /^https?$/ }).optional(),
});
const textBodySchema = z.strictObject({
  metadata: metadataSchema.optional(),
  title: z.string().trim().min(1).max(300),
  text: z
    .string()
    .refine((value) => value.trim().length > 0, 'must not be empty')
    .pipe(z.string().max(5_000_000)),
});
const documentSchema = z.object({
  id: z.string(),
  source: z.string(),
  title: z.string(),
  format: z.string(),
  language: z.enum(['zh', 'en']),
  chunkCount: z.number().int(),
  pageCount: z.number().int().optional(),
  contentHash: z.string(),
  updatedAt: z.string(),
  metadata: z.object({ tags: z.array(z.string()).optional(), department: z.string().optional() }).optional(),
  groups: z.array(z.string()).optional(),
  url: z.string().optional(),
});

/** An upload's metadata as the defaults of its documents. */
function documentDefaultsOf(metadata: z.infer<typeof metadataSchema>): DocumentOverrides {
  return {
    ...(metadata.tags || metadata.department ? { metadata: { ...(metadata.tags ? { tags: metadata.tags } : {}), ...(metadata.department ? { department: metadata.department } : {}) } } : {}),
    ...(metadata.groups ? { groups: metadata.groups } : {}),
    ...(metadata.url ? { url: metadata.url } : {}),
    ...(metadata.title ? { title: metadata.title } : {}),
  };
}

/**
 * What a reindex keeps of a document as indexed: the title, metadata, reader groups and URL it was given at upload
 * (the kept original is parsed again, so its own title is the same). Without them a document limited to a group would
 * come back open to everyone.
 */
function asIndexed(document: DocumentRecord): DocumentOverrides {
  return {
    title: document.title,
    ...(document.metadata ? { metadata: document.metadata } : {}),
    ...(document.groups ? { groups: document.groups } : {}),
    ...(document.url ? { url: document.url } : {}),
  };
}

function toDocumentResponse(document: DocumentRecord): z.infer<typeof documentSchema> {
  return {
    id: document.key,
    source: document.source,
    title: document.title,
    format: document.format,
    language: document.language,
    chunkCount: document.chunkCount,
    ...(document.pageCount ? { pageCount: document.pageCount } : {}),
    contentHash: document.contentHash,
    updatedAt: document.updatedAt,
    ...(document.metadata ? { metadata: document.metadata } : {}),
    ...(document.groups ? { groups: document.groups } : {}),
    ...(document.url ? { url: document.url } : {}),
  };
}

/** A stored file name: the upload's base name, without path parts or control characters. */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a file name must not keep
  const unsafe = /[\u0000-\u001f<>:"|?*]/g;
  const base = path.basename(name.replace(/\\/g, '/')).replace(unsafe, '_').trim();
  if (!base || base === '.' || base === '..' || base.startsWith('.')) throw new KbError('KB_ERR_UPLOAD_REJECTED', { details: `"${name}" is not a usable file name` });
  return base.slice(0, 200);
}

/** How each format's original is served: PDF and text open in the browser; HTML too, in a sandbox (no scripts). */
const originalContentTypes: Record<DocumentRecord['format'], { type: string; inline: boolean }> = {
  pdf: { type: 'application/pdf', inline: true },
  docx: { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', inline: false },
  html: { type: 'text/html; charset=utf-8', inline: true },
  markdown: { type: 'text/plain; charset=utf-8', inline: true },
  text: { type: 'text/plain; charset=utf-8', inline: true },
  spreadsheet: { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', inline: false },
  csv: { type: 'text/csv', inline: false },
  slides: { type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', inline: false },
  image: { type: 'image/png', inline: true },
};

/** An image original's type by its extension (the format says only "image"). */
const imageContentTypes: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.tif': 'image/tiff', '.tiff': 'image/tiff' };

function originalContentType(document: DocumentRecord): { type: string; inline: boolean } {
  if (document.format !== 'image') return originalContentTypes[document.format];
  // A browser shows PNG and JPEG, not TIFF: a TIFF is downloaded.
  const type = imageContentTypes[path.extname(document.source).toLowerCase()] ?? 'application/octet-stream';
  return { type, inline: type === 'image/png' || type === 'image/jpeg' };
}

export const documentRoutes: FastifyPluginAsyncZod<{ holder: KnowledgeBaseHolder; jobs: JobQueue; files: OriginalFiles; config: Readonly<Config>; access: Access }> = async (
  app,
  { holder, jobs, files, config, access },
) => {
  await app.register(multipart, { limits: { fileSize: config.uploads.maxBytes, files: config.uploads.maxFiles, fields: 10, parts: config.uploads.maxFiles + 10 } });

  const knowledgeBaseFor = async (request: FastifyRequest, collection: string) => {
    assertCollectionAllowed(request, collection);
    return holder.forCollection(collection);
  };

  app.post(
    '/v1/collections/:collection/documents',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Add or replace documents: multipart files, or JSON { title, text }. Returns a job.',
        params: collectionParams,
        response: {
          202: z.object({ job: jobSchema }),
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          413: errorResponseSchema,
          415: errorResponseSchema,
          503: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      await knowledgeBaseFor(request, collection);
      const stagingDir = files.stagingDirectory(collection);
      await jobs.assertAvailable();
      const names: string[] = [];
      let metadata: z.infer<typeof metadataSchema> | undefined;
      if (request.isMultipart()) {
        const saved: string[] = [];
        try {
          for await (const part of request.parts()) {
            if (part.type === 'field') {
              // A "metadata" field (JSON) applies to every file of the request.
              if (part.fieldname !== 'metadata') throw new KbError('KB_ERR_VALIDATION', { details: `unknown field "${part.fieldname}" (send files and an optional "metadata" JSON field)` });
              let raw: unknown;
              try {
                raw = JSON.parse(String(part.value));
              } catch {
                throw new KbError('KB_ERR_VALIDATION', { details: 'metadata: not valid JSON' });
              }
              const parsed = metadataSchema.safeParse(raw);
              if (!parsed.success) throw new KbError('KB_ERR_VALIDATION', { details: `metadata: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}` });
              metadata = parsed.data;
              continue;
            }
            const name = safeFileName(part.filename);
            const extension = path.extname(name).toLowerCase();
            if (!(extension in formatByExtension))
              throw new KbError('KB_ERR_UPLOAD_REJECTED', { details: `${name}: the extension "${extension || '(none)'}" is not one of ${Object.keys(formatByExtension).join(', ')}` });
            const temporary = path.join(stagingDir, `.${name}.${request.id}.partial`);
            saved.push(temporary);
            await pipeline(part.file, createWriteStream(temporary));
            if (part.file.truncated) throw new KbError('KB_ERR_BODY_TOO_LARGE', { limit: config.uploads.maxBytes });
            // The content must be what the name says: a PDF named .md, a ZIP named .docx or binary text are refused.
            checkContent({ path: name, bytes: readFileSync(temporary) });
            names.push(name);
          }
          if (names.length === 0) throw new KbError('KB_ERR_VALIDATION', { details: 'the multipart request has no file' });
          if (metadata?.title !== undefined && names.length > 1) throw new KbError('KB_ERR_VALIDATION', { details: 'metadata.title: a title is given to one file at a time' });
          for (const [index, name] of names.entries()) await files.keep(collection, name, saved[index]!);
        } catch (error) {
          for (const file of saved) rmSync(file, { force: true });
          // The client may still be sending the rest of a refused upload: close the connection after the answer
          // rather than leave a half-read request on it.
          reply.header('connection', 'close');
          if (isKbError(error) && (error.code === 'KB_ERR_UNSUPPORTED_FORMAT' || error.code === 'KB_ERR_PARSE')) throw new KbError('KB_ERR_UPLOAD_REJECTED', { details: error.message });
          if (error instanceof Error && 'code' in error && (error as { code: string }).code === 'FST_REQ_FILE_TOO_LARGE')
            throw new KbError('KB_ERR_BODY_TOO_LARGE', { limit: config.uploads.maxBytes });
          if (error instanceof Error && 'code' in error && (error as { code: string }).code === 'FST_FILES_LIMIT')
            throw new KbError('KB_ERR_VALIDATION', { details: `at most ${config.uploads.maxFiles} files per request` });
          throw error;
        }
      } else {
        const parsed = textBodySchema.safeParse(request.body);
        if (!parsed.success) {
          const details = parsed.error.issues.map((issue) => ({ path: ['body', ...issue.path].join('.'), message: issue.message }));
          throw new KbError('KB_ERR_VALIDATION', { details: details.map((detail) => `${detail.path}: ${detail.message}`).join('; ') }, { extra: { details } });
        }
        // Text documents are kept as files too, so that they reindex like any other.
        const name = safeFileName(`${parsed.data.title.replace(/[/\\]/g, '-').slice(0, 120)}.txt`);
        const staged = path.join(stagingDir, `.${name}.${request.id}.partial`);
        writeFileSync(staged, `${parsed.data.title}\n\n${parsed.data.text}\n`);
        await files.keep(collection, name, staged);
        names.push(name);
        if (parsed.data.metadata?.title !== undefined) throw new KbError('KB_ERR_VALIDATION', { details: 'body.metadata.title: a text document has its title in body.title' });
        metadata = parsed.data.metadata;
      }
      const documentDefaults = metadata ? documentDefaultsOf(metadata) : undefined;
      const job = await jobs.submit({ kind: 'upload', collection, files: names, parameters: documentDefaults ? { documentDefaults } : {} });
      return reply.status(202).header('location', `/v1/jobs/${job.id}`).send({ job });
    },
  );

  app.get(
    '/v1/collections/:collection/documents',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'List documents (paged)',
        params: collectionParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
          q: z.string().trim().min(1).max(200).optional().describe('part of the title or file name'),
          format: z.enum(DOCUMENT_FORMATS).optional(),
          language: z.enum(['zh', 'en']).optional(),
          tag: z.string().trim().min(1).max(100).optional(),
          department: z.string().trim().min(1).max(100).optional(),
          group: z.string().trim().min(1).max(100).optional().describe('documents readable by this reader group'),
        }),
        response: { 200: z.object({ documents: z.array(documentSchema), total: z.number().int() }), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      // Searched, filtered and paged by the store: a page costs the same at 5,000 documents as at 50.
      const { documents } = (await knowledgeBaseFor(request, request.params.collection)).storage;
      const { offset, limit, q, format, language, tag, department, group } = request.query;
      const query: DocumentQuery = {
        ...(q ? { text: q } : {}),
        ...(format ? { format } : {}),
        ...(language ? { language } : {}),
        ...(tag ? { tag } : {}),
        ...(department ? { department } : {}),
        ...(group ? { group } : {}),
      };
      const found = await documents.findDocuments(query, { offset, limit });
      return { total: found.total, documents: found.documents.map(toDocumentResponse) };
    },
  );

  const findDocument = async (request: FastifyRequest, collection: string, documentId: string) => {
    const knowledgeBase = await knowledgeBaseFor(request, collection);
    const document = await knowledgeBase.storage.documents.getDocumentByKey(documentId);
    if (!document) throw new KbError('KB_ERR_UNKNOWN_DOCUMENT', { collection, documentId });
    return { knowledgeBase, document };
  };

  app.get(
    '/v1/collections/:collection/documents/:documentId',
    {
      config: { access: 'admin' as const },
      schema: { tags: ['documents'], summary: 'One document', params: documentParams, response: { 200: documentSchema, 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema } },
    },
    async (request) => {
      const { document } = await findDocument(request, request.params.collection, request.params.documentId);
      return toDocumentResponse(document);
    },
  );

  app.get(
    '/v1/collections/:collection/documents/:documentId/file',
    {
      // No `access` level: the route takes either a signed link (from a citation's fileUrl, for browsers) or a key or
      // widget session whose read scope covers the document; it answers 404 alike for "absent" and "not yours".
      schema: {
        tags: ['documents'],
        summary: "A document's original file (PDF, Word, HTML, Markdown, text), for a caller allowed to read it or through a citation's signed fileUrl",
        params: documentParams,
        querystring: z.object({ expires: z.coerce.number().int().optional(), signature: z.string().max(100).optional() }),
        response: { 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection, documentId } = request.params;
      const { expires, signature } = request.query;
      const signed = expires !== undefined && signature !== undefined && access.fileLinks.verify(collection, documentId, expires, signature);
      let scope: ReadScope = READ_EVERYTHING;
      if (!signed) {
        request.principal = access.authorize(request, 'query');
        scope = readScopeOf(request, [collection]);
      }
      const knowledgeBase = await holder.forCollection(collection);
      const document = await knowledgeBase.storage.documents.getDocumentByKey(documentId);
      if (!document || !mayRead(scope, document.groups)) throw new KbError('KB_ERR_UNKNOWN_DOCUMENT', { collection, documentId });
      const file = await originalFileOf(files, collection, document);
      if (!file) throw new KbError('KB_ERR_FILE_UNAVAILABLE', { documentId, details: `it was given as text, or ${document.source} was moved since it was indexed` });
      const { type, inline } = originalContentType(document);
      return (
        reply
          .header('content-type', type)
          .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(path.basename(document.source))}`)
          .header('cache-control', 'private, max-age=300')
          .header('x-content-type-options', 'nosniff')
          // An HTML original opens as a document of no origin, without scripts: it cannot act as this server's page.
          .header('content-security-policy', 'sandbox')
          // A stream is sent as it is (Fastify serializes no stream); the error schemas above are what the type knows.
          .send(file as never)
      );
    },
  );

  app.get(
    '/v1/collections/:collection/documents/:documentId/chunks',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: "A document's chunks as the index holds them: text, heading path and location",
        params: documentParams,
        response: {
          200: z.object({
            document: documentSchema,
            chunks: z.array(
              z.object({
                ordinal: z.number().int(),
                text: z.string(),
                headings: z.array(z.string()),
                page: z.number().int().optional(),
                startOffset: z.number().int(),
                endOffset: z.number().int(),
                language: z.enum(['zh', 'en']),
                tokenCount: z.number().int(),
                ocr: z.boolean().optional(),
              }),
            ),
          }),
          400: errorResponseSchema,
          401: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { knowledgeBase, document } = await findDocument(request, request.params.collection, request.params.documentId);
      const chunks = await knowledgeBase.storage.documents.documentChunks(document.source);
      return {
        document: toDocumentResponse(document),
        chunks: chunks.map((chunk) => ({
          ordinal: chunk.ordinal,
          text: chunk.text,
          headings: chunk.headings,
          ...(chunk.page !== undefined ? { page: chunk.page } : {}),
          startOffset: chunk.startOffset,
          endOffset: chunk.endOffset,
          language: chunk.language,
          tokenCount: chunk.tokenCount,
          ...(chunk.ocr ? { ocr: true } : {}),
        })),
      };
    },
  );

  app.post(
    '/v1/collections/:collection/documents/:documentId/reindex',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Parse and embed one uploaded document again (a job)',
        params: documentParams,
        response: { 202: z.object({ job: jobSchema }), 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      const { document } = await findDocument(request, collection, request.params.documentId);
      await jobs.assertAvailable();
      if (!(await files.has(collection, document.source)))
        throw new KbError('KB_ERR_FILE_UNAVAILABLE', { documentId: document.key, details: `${document.source} was not uploaded (it was ingested from disk): reindex it with \`kb ingest --force\`` });
      const job = await jobs.submit({ kind: 'reindex', collection, files: [document.source], parameters: { force: true, documentsAsIndexed: { [document.source]: asIndexed(document) } } });
      return reply.status(202).header('location', `/v1/jobs/${job.id}`).send({ job });
    },
  );

  app.delete(
    '/v1/collections/:collection/documents/:documentId',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Delete a document, its chunks and vectors',
        params: documentParams,
        response: { 204: z.null().describe('deleted'), 400: errorResponseSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { knowledgeBase, document } = await findDocument(request, request.params.collection, request.params.documentId);
      await knowledgeBase.storage.documents.deleteDocument(document.source);
      await knowledgeBase.storage.flush();
      // An uploaded file goes too; a file ingested from elsewhere on disk is not ours to delete.
      await files.remove(request.params.collection, document.source);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/collections/:collection/reindex',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['documents'],
        summary: 'Parse and embed every uploaded document again (a job)',
        params: collectionParams,
        response: { 202: z.object({ job: jobSchema }), 401: errorResponseSchema, 404: errorResponseSchema, 503: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { collection } = request.params;
      const knowledgeBase = await knowledgeBaseFor(request, collection);
      await jobs.assertAvailable();
      const kept = new Set(await files.names(collection));
      const documents = (await knowledgeBase.storage.documents.listDocuments()).filter((document) => kept.has(document.source));
      const documentsAsIndexed = Object.fromEntries(documents.map((document) => [document.source, asIndexed(document)]));
      const job = await jobs.submit({ kind: 'reindex', collection, files: documents.map((document) => document.source), parameters: { force: true, documentsAsIndexed } });
      return reply.status(202).header('location', `/v1/jobs/${job.id}`).send({ job });
    },
  );
};
