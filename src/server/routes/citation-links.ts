// Citations that a browser can open: each cited document whose original file is on this server gets a signed
// `fileUrl` (access/file-links.ts), so the widget's source card links to the original when the document has no URL.
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Citation } from '../../answer/types.ts';
import type { KnowledgeBase } from '../../knowledge-base.ts';
import type { DocumentRecord } from '../../store/types.ts';
import type { FileLinks } from '../access/file-links.ts';
import type { OriginalFiles } from '../../files/original-files.ts';

/** A document's original: the uploaded copy, or the file it was ingested from (as seen from this node). */
export async function originalFileOf(files: OriginalFiles, collection: string, document: DocumentRecord): Promise<Readable | undefined> {
  const kept = await files.read(collection, document.source);
  if (kept) return kept;
  const onDisk = path.resolve(document.source);
  return existsSync(onDisk) && statSync(onDisk).isFile() ? createReadStream(onDisk) : undefined;
}

/** Whether a document's original can be served (as originalFileOf would find it). */
async function hasOriginal(files: OriginalFiles, collection: string, document: DocumentRecord): Promise<boolean> {
  if (await files.has(collection, document.source)) return true;
  const onDisk = path.resolve(document.source);
  return existsSync(onDisk) && statSync(onDisk).isFile();
}

/** The citations with a signed fileUrl on each whose original is here; the collections are those the request asked. */
export async function withFileLinks(
  citations: readonly Citation[],
  collections: readonly { name: string; knowledgeBase: KnowledgeBase }[],
  links: FileLinks,
  files: OriginalFiles,
): Promise<Citation[]> {
  return Promise.all(
    citations.map(async (citation) => {
      for (const { name, knowledgeBase } of collections) {
        const document = await knowledgeBase.storage.documents.getDocumentByKey(citation.documentId);
        if (document) return (await hasOriginal(files, name, document)) ? { ...citation, fileUrl: links.path(name, citation.documentId) } : citation;
      }
      return citation;
    }),
  );
}
