// Moving a knowledge base between backends (embedded ⇄ PostgreSQL) through the storage seams only: every document
// with its chunks and their terms as indexed, written all or nothing per document on the target; vectors computed
// again by the embedder where the target keeps them (a chunk's vector is a function of its indexed text). Verified by
// document and chunk counts; the caller may compare searches too.
import { documentVectors } from '../embed/index.ts';
import type { Embedder } from '../embed/types.ts';
import { indexableText } from '../ingest/chunker.ts';
import type { Storage } from './types.ts';

export interface CopyReport {
  documents: number;
  chunks: number;
  /** Documents and chunks the target holds afterwards (equal to the above when it started empty). */
  targetDocuments: number;
  targetChunks: number;
}

export async function copyStorage(source: Storage, target: Storage, embedder: Embedder, onProgress?: (done: number, total: number) => void): Promise<CopyReport> {
  const documents = await source.documents.listDocuments();
  let chunkCount = 0;
  for (const [index, document] of documents.entries()) {
    const chunks = await source.documents.documentChunks(document.source);
    const vectors = await documentVectors(
      embedder,
      chunks.map((chunk) => indexableText(document.title, chunk)),
      target.documents.vectorMode,
    );
    const { id: _id, key: _key, chunkCount: _count, updatedAt: _updated, ...input } = document;
    await target.documents.upsertDocument(
      input,
      chunks.map((chunk, position) => ({ ...chunk, vector: vectors[position]! })),
    );
    chunkCount += chunks.length;
    onProgress?.(index + 1, documents.length);
  }
  await target.flush();
  const report = await target.checkConsistency();
  return { documents: documents.length, chunks: chunkCount, targetDocuments: report.documents, targetChunks: report.chunks };
}
