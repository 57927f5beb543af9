// The in-memory keyword index must rank exactly as the reference BM25 (retrieve/bm25.ts rankBm25 over plain postings)
// through additions, removals, compaction, a save and a load, with and without a filter.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { rankBm25 } from '../../src/retrieve/bm25.ts';
import { seededRandom } from '../../src/random.ts';
import { MemoryKeywordIndex } from '../../src/store/keyword-index.ts';
import type { Posting } from '../../src/store/types.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const parameters = { k1: 0.9, b: 0.4 };

/** Chunks of random words from a Zipf-like vocabulary: a few frequent terms, many rare ones. */
function randomChunks(seed: number, count: number, firstId = 1): Map<number, Map<string, number>> {
  const random = seededRandom(seed);
  const chunks = new Map<number, Map<string, number>>();
  for (let id = firstId; id < firstId + count; id++) {
    const terms = new Map<string, number>();
    const length = 5 + Math.floor(random() * 60);
    for (let position = 0; position < length; position++) {
      const term = `t${Math.floor(Math.pow(random(), 3) * 400)}`;
      terms.set(term, (terms.get(term) ?? 0) + 1);
    }
    chunks.set(id, terms);
  }
  return chunks;
}

/** The reference ranking over the live chunks. */
function reference(chunks: ReadonlyMap<number, Map<string, number>>, query: ReadonlyMap<string, number>, limit: number, allowed?: ReadonlySet<number>) {
  const postings = new Map<string, Posting[]>();
  const frequencies = new Map<string, number>();
  let total = 0;
  for (const [chunkId, terms] of chunks) {
    let length = 0;
    for (const frequency of terms.values()) length += frequency;
    total += length;
    for (const [term, frequency] of terms) {
      if (!query.has(term)) continue;
      frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
      if (allowed && !allowed.has(chunkId)) continue;
      const list = postings.get(term) ?? [];
      list.push({ chunkId, termFrequency: frequency, chunkLength: length });
      postings.set(term, list);
    }
  }
  return rankBm25(query, postings, chunks.size, chunks.size > 0 ? total / chunks.size : 0, parameters, limit, frequencies);
}

function queries(seed: number): Map<string, number>[] {
  const random = seededRandom(seed);
  return Array.from({ length: 40 }, () => new Map(Array.from({ length: 1 + Math.floor(random() * 6) }, () => [`t${Math.floor(Math.pow(random(), 2) * 420)}`, random() < 0.3 ? 0.4 : 1])));
}

function sortedPostings(chunks: ReadonlyMap<number, Map<string, number>>) {
  const all: { term: string; chunkId: number; frequency: number }[] = [];
  for (const [chunkId, terms] of chunks) for (const [term, frequency] of terms) all.push({ term, chunkId, frequency });
  return all.sort((left, right) => (left.term < right.term ? -1 : left.term > right.term ? 1 : left.chunkId - right.chunkId));
}

function lengthsOf(chunks: ReadonlyMap<number, Map<string, number>>): [number, number][] {
  return [...chunks].map(([id, terms]) => [id, [...terms.values()].reduce((sum, value) => sum + value, 0)]);
}

function assertSameRanking(index: MemoryKeywordIndex, chunks: ReadonlyMap<number, Map<string, number>>, label: string) {
  const allowed = new Set([...chunks.keys()].filter((id) => id % 3 !== 0));
  for (const query of queries(7)) {
    assert.deepEqual(index.search(query, parameters, 10, undefined), reference(chunks, query, 10), `${label}: ${[...query.keys()].join(' ')}`);
    assert.deepEqual(index.search(query, parameters, 10, allowed), reference(chunks, query, 10, allowed), `${label}, filtered: ${[...query.keys()].join(' ')}`);
    for (const term of query.keys()) assert.equal(index.documentFrequency(term), [...chunks.values()].filter((terms) => terms.has(term)).length, `${label}: df of ${term}`);
  }
  const sample = [...chunks.keys()].filter((id) => id % 7 === 0);
  assert.deepEqual(
    index.chunkTerms([...sample, 999999]),
    new Map([...sample.map((id): [number, Map<string, number>] => [id, new Map([...chunks.get(id)!].sort())]), [999999, new Map()]]).set(999999, new Map()),
    `${label}: chunk terms`,
  );
}

describe('keyword index', () => {
  it('ranks as the reference BM25 after building, adding, removing, compacting, saving and loading', () => {
    const chunks = randomChunks(1, 600);
    const index = MemoryKeywordIndex.fromSorted(sortedPostings(chunks), lengthsOf(chunks));
    assertSameRanking(index, chunks, 'built');

    const more = randomChunks(2, 150, 1000);
    for (const [id, terms] of more) {
      index.add(id, terms);
      chunks.set(id, terms);
    }
    for (const id of [3, 10, 11, 250, 599, 1005, 1100]) {
      index.remove(id);
      chunks.delete(id);
    }
    assert.ok(index.pendingChanges() > 0);
    assertSameRanking(index, chunks, 'with a delta');
    assert.deepEqual(index.statistics().chunkCount, chunks.size);

    const file = path.join(temporaryDirectory(), 'keywords.bin');
    index.save(file, { generation: 42, tokenizer: 'bigram' });
    assert.equal(index.pendingChanges(), 0, 'saving compacts');
    assertSameRanking(index, chunks, 'compacted');

    const loaded = MemoryKeywordIndex.load(file);
    assert.ok(loaded);
    assert.deepEqual(loaded.header, { version: 1, generation: 42, tokenizer: 'bigram' });
    assertSameRanking(loaded.index, chunks, 'loaded');
    assert.deepEqual(
      loaded.index.chunkIds(),
      [...chunks.keys()].sort((left, right) => left - right),
    );
  });

  it('compacts chunks added with ids below those already indexed (writes of another process picked up late)', () => {
    const chunks = randomChunks(3, 300);
    const late = new Map([...chunks].filter(([id]) => id % 10 === 5));
    const early = new Map([...chunks].filter(([id]) => id % 10 !== 5));
    const index = MemoryKeywordIndex.fromSorted(sortedPostings(early), lengthsOf(early));
    for (const [id, terms] of late) index.add(id, terms);
    index.compact();
    assertSameRanking(index, chunks, 'compacted out of order');
    const file = path.join(temporaryDirectory(), 'keywords.bin');
    index.save(file, { generation: 1, tokenizer: 'bigram' });
    assertSameRanking(MemoryKeywordIndex.load(file)!.index, chunks, 'loaded after an out-of-order compaction');
  });

  // Queries shaped like RM3's: a few query terms, then many frequent expansion terms of small weight. MaxScore skips
  // most of their postings; the results must not change.
  it('ranks long expanded queries as the reference, with and without a filter (MaxScore pruning)', () => {
    const chunks = randomChunks(5, 3000);
    const index = MemoryKeywordIndex.fromSorted(sortedPostings(chunks), lengthsOf(chunks));
    const random = seededRandom(9);
    const allowed = new Set([...chunks.keys()].filter((id) => id % 4 !== 1));
    for (let round = 0; round < 30; round++) {
      const query = new Map<string, number>();
      for (let term = 0; term < 3; term++) query.set(`t${100 + Math.floor(random() * 300)}`, 0.2);
      for (let term = 0; term < 30; term++) query.set(`t${Math.floor(Math.pow(random(), 2) * 60)}`, 0.02 * random());
      for (const limit of [1, 5, 20]) {
        assert.deepEqual(index.search(query, parameters, limit), reference(chunks, query, limit), `round ${round}, top ${limit}`);
        assert.deepEqual(index.search(query, parameters, limit, allowed), reference(chunks, query, limit, allowed), `round ${round}, top ${limit}, filtered`);
      }
    }
  });

  it('returns nothing for an empty index or unknown terms, and ignores a damaged file', () => {
    const empty = MemoryKeywordIndex.fromSorted([], []);
    assert.deepEqual(empty.search(new Map([['vpn', 1]]), parameters, 5), []);
    const folder = temporaryDirectory();
    const file = path.join(folder, 'keywords.bin');
    empty.save(file, { generation: 0, tokenizer: 'bigram' });
    assert.ok(MemoryKeywordIndex.load(file));
    writeFileSync(file, Buffer.from('not a keyword file at all'));
    assert.equal(MemoryKeywordIndex.load(file), undefined);
    assert.equal(MemoryKeywordIndex.load(path.join(folder, 'absent.bin')), undefined);
  });
});
