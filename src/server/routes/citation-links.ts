// Citations that a browser can open: each cited document whose original file is on this server gets a signed
// `fileUrl` (access/file-links.ts), so the widget's source card links to the original when the document has no URL.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Citation } from '../../answer/types.ts';
import type { KnowledgeBase } from '../../knowledge-base.ts';
import type { DocumentRecord } from '../../store/types.ts';
import type { FileLinks } from '../access/file-links.ts';

/** Where a document's original is: the uploaded copy, or the file it was ingested from (as seen from here). */
export function originalFileOf(knowledgeBase: KnowledgeBase, document: DocumentRecord): string | undefined {
  const candidates = [path.join(knowledgeBase.config.dataDir, 'files', document.source), path.resolve(document.source)];
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

/** The citations with a signed fileUrl on each whose original is here; the collections are those the request asked. */
export async function withFileLinks(citations: readonly Citation[], collections: readonly { name: string; knowledgeBase: KnowledgeBase }[], links: FileLinks): Promise<Citation[]> {
  return Promise.all(
    citations.map(async (citation) => {
      for (const { name, knowledgeBase } of collections) {
        const document = await knowledgeBase.storage.documents.getDocumentByKey(citation.documentId);
        if (document) return originalFileOf(knowledgeBase, document) ? { ...citation, fileUrl: links.path(name, citation.documentId) } : citation;
      }
      return citation;
    }),
  );
}
