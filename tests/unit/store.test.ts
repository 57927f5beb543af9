import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KbError } from '../../src/errors.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import type { ChunkInput } from '../../src/store/types.ts';
import { termFrequencies, tokenize } from '../../src/text/tokenize.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const embedder = new BuiltinEmbedder();
const hnsw = { m: 16, efConstruction: 100, efSearch: 50 };

async function chunks(texts: string[]): Promise<ChunkInput[]> {
  const vectors = await embedder.embedDocuments(texts);
  return texts.map((text, ordinal) => ({
    ordinal,
    text,
    headings: ['H'],
    page: undefined,
    startOffset: 0,
    endOffset: text.length,
    language: 'en',
    tokenCount: text.split(' ').length,
    contentHash: String(ordinal),
    terms: termFrequencies(tokenize(text)),
    vector: vectors[ordinal]!,
  }));
}

const document = (source: string) => ({ source, title: source, language: 'en' as const, format: 'text' as const, contentHash: 'h-' + source });

describe('LocalStore', () => {
  it('writes, replaces and deletes documents with their postings and vectors', async () => {
    const dataDir = temporaryDirectory();
    const store = LocalStore.open(dataDir, embedder, hnsw);
    store.upsertDocument(document('a.txt'), await chunks(['spindle motor overheat', 'coolant level low']));
    store.upsertDocument(document('b.txt'), await chunks(['vpn password reset']));
    assert.equal(store.keywordStatistics().chunkCount, 3);
    assert.equal(store.documentFrequencies(['spindl']).get('spindl'), 1);

    store.upsertDocument(document('a.txt'), await chunks(['hydraulic pressure low']));
    assert.equal(store.keywordStatistics().chunkCount, 2);
    assert.equal(store.documentFrequencies(['spindl']).get('spindl'), 0, 'old postings are gone');
    const [top] = store.denseSearch(await embedder.embedQuery('hydraulic pressure low'), 5);
    assert.equal(store.getChunks([top![0]]).get(top![0])?.text, 'hydraulic pressure low');

    assert.equal(store.deleteDocument('b.txt'), true);
    assert.equal(store.deleteDocument('b.txt'), false);
    assert.equal(store.denseSearch(await embedder.embedQuery('vpn password reset'), 5).length, 1);
    assert.deepEqual({ ...store.checkConsistency() }, { documents: 1, chunks: 1, chunksWithoutVector: 0, vectorsWithoutChunk: 0, documentsWithWrongChunkCount: 0, orphanPostings: 0 });
    store.close();
  });

  it('grows the vector index past its initial capacity', async () => {
    const store = LocalStore.open(temporaryDirectory(), embedder, hnsw);
    for (let batch = 0; batch < 6; batch++) {
      store.upsertDocument(document(`doc-${batch}.txt`), await chunks(Array.from({ length: 300 }, (_, index) => `item ${batch} ${index} code X${batch}-${index}`)));
    }
    assert.equal(store.keywordStatistics().chunkCount, 1800);
    assert.equal(store.checkConsistency().chunksWithoutVector, 0);
    store.close();
  });

  it('reopens from its files and filters by document, source prefix and language', async () => {
    const dataDir = temporaryDirectory();
    const first = LocalStore.open(dataDir, embedder, hnsw);
    first.upsertDocument(document('manuals/a.txt'), await chunks(['spindle motor overheat']));
    first.upsertDocument(
      { ...document('it/b.txt'), language: 'zh' },
      (await chunks(['打印机卡纸'])).map((chunk) => ({ ...chunk, language: 'zh' as const })),
    );
    first.flush();
    first.close();
    const store = LocalStore.open(dataDir, embedder, hnsw);
    assert.equal(store.listDocuments().length, 2);
    assert.equal(store.chunkScope({ read: READ_EVERYTHING, filters: { sourcePrefix: 'manuals/' } })?.size, 1);
    assert.equal(store.chunkScope({ read: READ_EVERYTHING, filters: { language: 'zh' } })?.size, 1);
    const key = store.getDocumentBySource('it/b.txt')!.key;
    const allowed = store.chunkScope({ read: READ_EVERYTHING, filters: { documentKeys: [key] } })!;
    const results = store.denseSearch(await embedder.embedQuery('spindle'), 10, allowed);
    assert.equal(results.length, 1);
    assert.equal(store.getChunks([results[0]![0]]).get(results[0]![0])?.source, 'it/b.txt');
    assert.equal(store.chunkScope({ read: READ_EVERYTHING, filters: {} }), undefined);
    store.close();
  });

  it('rebuilds the vector index when its file is older than the database (a crash before saving)', async () => {
    const dataDir = temporaryDirectory();
    const store = LocalStore.open(dataDir, embedder, hnsw);
    store.upsertDocument(document('a.txt'), await chunks(['first document']));
    store.flush();
    store.upsertDocument(document('b.txt'), await chunks(['second document written after the last save']));
    store.close(); // no flush: the vector file misses b.txt
    const reopened = LocalStore.open(dataDir, embedder, hnsw);
    const report = reopened.checkConsistency();
    assert.equal(report.chunks, 2);
    assert.equal(report.chunksWithoutVector, 0);
    reopened.close();
  });

  it('refuses an index built by another embedder or format version, saying how to rebuild', async () => {
    const dataDir = temporaryDirectory();
    LocalStore.open(dataDir, embedder, hnsw).close();
    assert.throws(
      () => LocalStore.open(dataDir, { id: 'transformers:other:384', dimensions: 384 }, hnsw),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_INDEX_MISMATCH' && /npm run ingest/.test(error.message),
    );
    writeFileSync(path.join(dataDir, 'manifest.json'), JSON.stringify({ formatVersion: 99, embedderId: embedder.id, dimensions: embedder.dimensions }));
    assert.throws(
      () => LocalStore.open(dataDir, embedder, hnsw),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_INDEX_VERSION',
    );
    writeFileSync(path.join(dataDir, 'manifest.json'), '{broken');
    assert.throws(
      () => LocalStore.open(dataDir, embedder, hnsw),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_INDEX_CORRUPT',
    );
  });

  it('rejects vectors of the wrong size without writing anything', async () => {
    const store = LocalStore.open(temporaryDirectory(), embedder, hnsw);
    const [chunk] = await chunks(['text']);
    assert.throws(() => store.upsertDocument(document('a.txt'), [{ ...chunk!, vector: new Float32Array(3) }]), KbError);
    assert.equal(store.listDocuments().length, 0);
    store.close();
  });
});

describe('vectors that ranking does not search', () => {
  // At 100k chunks the built-in embedder's vectors took 2 KB per chunk and an HNSW insertion each, for a list that
  // ranking gives weight 0. Kept as "none", they are computed again when an index is opened to search them.
  it('keeps none for an embedder that computes them at once, and computes them when an index is opened to search them', async () => {
    const dataDir = temporaryDirectory();
    const lean = LocalStore.open(dataDir, embedder, { ...hnsw, vectors: 'none' });
    lean.upsertDocument(
      document('a.txt'),
      (await chunks(['spindle motor overheat', 'coolant level low'])).map((chunk) => ({ ...chunk, vector: new Float32Array(0) })),
    );
    assert.deepEqual(lean.denseSearch(await embedder.embedQuery('spindle motor overheat'), 5), []);
    assert.equal(lean.checkConsistency().chunksWithoutVector, 0);
    lean.flush();
    lean.close();
    assert.equal(existsSync(path.join(dataDir, 'vectors.hnsw')), false, 'no vector file');

    const searching = LocalStore.open(dataDir, embedder, hnsw);
    const [top] = searching.denseSearch(await embedder.embedQuery('a.txt\nspindle motor overheat'), 1);
    assert.equal(searching.getChunks([top![0]]).get(top![0])?.text, 'spindle motor overheat');
    assert.deepEqual(searching.checkConsistency(), { documents: 1, chunks: 2, chunksWithoutVector: 0, vectorsWithoutChunk: 0, documentsWithWrongChunkCount: 0, orphanPostings: 0 });
    searching.close();
  });

  it('refuses to keep no vectors for an embedder that cannot compute them again', () => {
    assert.throws(() => LocalStore.open(temporaryDirectory(), { id: 'model:x', dimensions: 4 }, { ...hnsw, vectors: 'none' }), /cannot compute vectors again/);
  });
});

describe('the keyword file', () => {
  it('catches up with the chunks written after it was saved (an ingest stopped between two saves)', async () => {
    const dataDir = temporaryDirectory();
    const first = LocalStore.open(dataDir, embedder, hnsw);
    first.upsertDocument(document('a.txt'), await chunks(['spindle motor overheat']));
    first.flush();
    const saved = readFileSync(path.join(dataDir, 'keywords.bin'));
    first.upsertDocument(document('b.txt'), await chunks(['vpn password reset']));
    first.upsertDocument(document('a.txt'), await chunks(['hydraulic pressure low']));
    first.close();
    writeFileSync(path.join(dataDir, 'keywords.bin'), saved);

    const reopened = LocalStore.open(dataDir, embedder, hnsw);
    assert.deepEqual(
      reopened.documentFrequencies(['vpn', 'spindl', 'hydraul']),
      new Map([
        ['vpn', 1],
        ['spindl', 0],
        ['hydraul', 1],
      ]),
    );
    assert.equal(reopened.keywordStatistics().chunkCount, 2);
    assert.equal(reopened.checkConsistency().orphanPostings, 0);
    reopened.close();
    assert.notDeepEqual(readFileSync(path.join(dataDir, 'keywords.bin')), saved, 'the caught-up index is saved');
  });
});
