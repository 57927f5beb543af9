// The keyword index in memory: postings in typed arrays, BM25 scored term by term into a dense accumulator, top k by
// a heap. It replaces reading postings out of SQLite on every query, which was 75% of a search at 100k chunks (each
// posting joined to a chunk row holding text and a 2 KB vector, 139k rows per English query).
//
// Layout: a base segment (terms sorted, their postings concatenated in chunk-id order: `postingChunks` and
// `postingFrequencies`, delimited by `offsets`) that is rebuilt only by compact(), plus a delta of postings added since
// (per term, in insertion order). A chunk is live while `lengths[chunkId] >= 0`; removing one only marks it, so
// removal needs no list of its terms (another process's deletions are picked up from chunk ids alone). Document
// frequencies count live postings; they are exact, and cached per term until the next removal.
//
// Scores equal rankBm25's (retrieve/bm25.ts) to the bit: the same formula, the same order of additions per chunk
// (query terms in order), the same tie-break (chunk id ascending).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { bm25TermScore, inverseDocumentFrequency, type Bm25Parameters } from '../retrieve/bm25.ts';
import type { KeywordStatistics, ScoredChunk } from './types.ts';

/** Version of the keyword file; a file of another version is ignored and rebuilt from the database. */
export const KEYWORD_FILE_VERSION = 1;
const MAGIC = 0x4b424b57; // "KBKW"
/** Term frequencies are stored in 16 bits; a term repeated more often in one chunk counts 65,535 times. */
const MAX_FREQUENCY = 0xffff;

export interface KeywordPosting {
  term: string;
  chunkId: number;
  frequency: number;
}

export interface KeywordIndexHeader {
  version: number;
  /** The database generation the file was written at. */
  generation: number;
  /** The CJK tokenizer the postings were made with. */
  tokenizer: string;
}

export class KeywordIndex {
  private terms: string[] = [];
  private termSlots = new Map<string, number>();
  private offsets: Uint32Array = new Uint32Array(1);
  private postingChunks: Int32Array = new Int32Array(0);
  private postingFrequencies: Uint16Array = new Uint16Array(0);
  /** Live postings per base term at the last compaction (before any removal since). */
  private baseFrequencies: Uint32Array = new Uint32Array(0);
  /** Chunk length (sum of term frequencies) by chunk id; -1: no such chunk (never added, or removed). */
  private lengths: Float32Array = new Float32Array(0);
  private added = new Map<string, { chunks: number[]; frequencies: number[] }>();
  private addedPostings = 0;
  private removedSinceCompaction = 0;
  private liveCount = 0;
  private totalLength = 0;
  private frequencyCache = new Map<string, number>();
  /** Terms of the chunks added since the last compaction, for chunkTerms(). */
  private addedTerms = new Map<number, ReadonlyMap<string, number>>();
  /** The base postings by chunk (term slots and frequencies), built on the first chunkTerms() call after a compaction. */
  private forward: { offsets: Uint32Array; slots: Uint32Array; frequencies: Uint16Array } | undefined;

  /** Builds an index from postings sorted by term (then chunk id) and every chunk's length. */
  static fromSorted(postings: Iterable<KeywordPosting>, chunkLengths: Iterable<[chunkId: number, length: number]>): KeywordIndex {
    const index = new KeywordIndex();
    for (const [chunkId, length] of chunkLengths) index.setLength(chunkId, length);
    const terms: string[] = [];
    const offsets: number[] = [0];
    let chunks = new Int32Array(1 << 16);
    let frequencies = new Uint16Array(1 << 16);
    let count = 0;
    let previous: string | undefined;
    for (const posting of postings) {
      if (posting.term !== previous) {
        if (previous !== undefined) offsets.push(count);
        terms.push(posting.term);
        previous = posting.term;
      }
      if (count === chunks.length) {
        const grownChunks = new Int32Array(chunks.length * 2);
        grownChunks.set(chunks);
        chunks = grownChunks;
        const grownFrequencies = new Uint16Array(frequencies.length * 2);
        grownFrequencies.set(frequencies);
        frequencies = grownFrequencies;
      }
      chunks[count] = posting.chunkId;
      frequencies[count] = Math.min(posting.frequency, MAX_FREQUENCY);
      count++;
    }
    if (previous !== undefined) offsets.push(count);
    index.setBase(terms, Uint32Array.from(offsets), chunks.slice(0, count), frequencies.slice(0, count));
    return index;
  }

  private setBase(terms: string[], offsets: Uint32Array, chunks: Int32Array, frequencies: Uint16Array): void {
    this.terms = terms;
    this.termSlots = new Map(terms.map((term, slot) => [term, slot]));
    this.offsets = offsets;
    this.postingChunks = chunks;
    this.postingFrequencies = frequencies;
    this.baseFrequencies = new Uint32Array(terms.length);
    for (let slot = 0; slot < terms.length; slot++) this.baseFrequencies[slot] = offsets[slot + 1]! - offsets[slot]!;
    this.added = new Map();
    this.addedPostings = 0;
    this.removedSinceCompaction = 0;
    this.frequencyCache.clear();
    this.addedTerms = new Map();
    this.forward = undefined;
  }

  private setLength(chunkId: number, length: number): void {
    if (chunkId >= this.lengths.length) {
      const grown = new Float32Array(Math.max(chunkId + 1, this.lengths.length * 2, 1024)).fill(-1);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    if (this.lengths[chunkId]! < 0) {
      this.liveCount++;
      this.totalLength += length;
    }
    this.lengths[chunkId] = length;
  }

  has(chunkId: number): boolean {
    return chunkId < this.lengths.length && this.lengths[chunkId]! >= 0;
  }

  /** Adds a chunk with its term frequencies (a chunk id is never reused). */
  add(chunkId: number, terms: ReadonlyMap<string, number>): void {
    if (this.has(chunkId)) return;
    let length = 0;
    for (const frequency of terms.values()) length += frequency;
    this.setLength(chunkId, length);
    this.addedTerms.set(chunkId, terms);
    for (const [term, frequency] of terms) {
      let list = this.added.get(term);
      if (!list) this.added.set(term, (list = { chunks: [], frequencies: [] }));
      list.chunks.push(chunkId);
      list.frequencies.push(Math.min(frequency, MAX_FREQUENCY));
      this.addedPostings++;
      const cached = this.frequencyCache.get(term);
      if (cached !== undefined) this.frequencyCache.set(term, cached + 1);
    }
  }

  /** Removes a chunk: its postings stop counting at once and are dropped at the next compaction. */
  remove(chunkId: number): void {
    if (!this.has(chunkId)) return;
    this.liveCount--;
    this.totalLength -= this.lengths[chunkId]!;
    this.lengths[chunkId] = -1;
    this.removedSinceCompaction++;
    this.frequencyCache.clear();
  }

  /**
   * Each live chunk's terms with their frequencies (pseudo-relevance feedback and the same-passage check read the
   * few top chunks): from a forward copy of the base postings, built once per compaction, or the chunk's added terms.
   */
  chunkTerms(chunkIds: readonly number[]): Map<number, Map<string, number>> {
    const result = new Map<number, Map<string, number>>();
    for (const chunkId of chunkIds) {
      const terms = new Map<string, number>();
      result.set(chunkId, terms);
      if (!this.has(chunkId)) continue;
      const added = this.addedTerms.get(chunkId);
      if (added) {
        for (const [term, frequency] of added) terms.set(term, Math.min(frequency, MAX_FREQUENCY));
        continue;
      }
      const forward = this.forwardIndex();
      if (chunkId + 1 >= forward.offsets.length) continue;
      for (let at = forward.offsets[chunkId]!; at < forward.offsets[chunkId + 1]!; at++) terms.set(this.terms[forward.slots[at]!]!, forward.frequencies[at]!);
    }
    return result;
  }

  private forwardIndex(): { offsets: Uint32Array; slots: Uint32Array; frequencies: Uint16Array } {
    if (this.forward) return this.forward;
    const offsets = new Uint32Array(this.lengths.length + 1);
    for (let at = 0; at < this.postingChunks.length; at++) offsets[this.postingChunks[at]! + 1]!++;
    for (let chunkId = 0; chunkId < this.lengths.length; chunkId++) offsets[chunkId + 1]! += offsets[chunkId]!;
    const next = offsets.slice(0, this.lengths.length);
    const slots = new Uint32Array(this.postingChunks.length);
    const frequencies = new Uint16Array(this.postingChunks.length);
    for (let slot = 0; slot < this.terms.length; slot++) {
      for (let at = this.offsets[slot]!; at < this.offsets[slot + 1]!; at++) {
        const position = next[this.postingChunks[at]!]!++;
        slots[position] = slot;
        frequencies[position] = this.postingFrequencies[at]!;
      }
    }
    this.forward = { offsets, slots, frequencies };
    return this.forward;
  }

  /** Live chunk ids, ascending. */
  chunkIds(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.lengths.length; id++) if (this.lengths[id]! >= 0) ids.push(id);
    return ids;
  }

  statistics(): KeywordStatistics {
    return { chunkCount: this.liveCount, averageChunkLength: this.liveCount > 0 ? this.totalLength / this.liveCount : 0 };
  }

  /** Postings waiting in the delta, and removed chunks whose postings are still in the base. */
  pendingChanges(): number {
    return this.addedPostings + this.removedSinceCompaction;
  }

  basePostingCount(): number {
    return this.postingChunks.length;
  }

  /** Live chunks holding the term. */
  documentFrequency(term: string): number {
    const cached = this.frequencyCache.get(term);
    if (cached !== undefined) return cached;
    let count = 0;
    const slot = this.termSlots.get(term);
    if (slot !== undefined) {
      if (this.removedSinceCompaction === 0) count = this.baseFrequencies[slot]!;
      else for (let at = this.offsets[slot]!; at < this.offsets[slot + 1]!; at++) if (this.lengths[this.postingChunks[at]!]! >= 0) count++;
    }
    const list = this.added.get(term);
    if (list) for (const chunkId of list.chunks) if (this.lengths[chunkId]! >= 0) count++;
    this.frequencyCache.set(term, count);
    return count;
  }

  /**
   * The top `limit` chunks by BM25 for weighted query terms, among `allowed` chunks when given. IDF comes from the
   * whole index, so a filter narrows the candidates without changing their scores.
   */
  search(queryTerms: ReadonlyMap<string, number>, parameters: Bm25Parameters, limit: number, allowed?: ReadonlySet<number>): ScoredChunk[] {
    if (limit <= 0 || this.liveCount === 0) return [];
    const { chunkCount, averageChunkLength } = this.statistics();
    const scores = new Float64Array(this.lengths.length);
    const seen = new Uint8Array(this.lengths.length);
    const touched: number[] = [];
    let permitted: Uint8Array | undefined;
    if (allowed) {
      permitted = new Uint8Array(this.lengths.length);
      for (const id of allowed) if (id < permitted.length) permitted[id] = 1;
    }
    const lengths = this.lengths;
    const score = (chunkId: number, frequency: number, weight: number, idf: number) => {
      const length = lengths[chunkId]!;
      if (length < 0 || (permitted && permitted[chunkId] === 0)) return;
      const value = weight * bm25TermScore(frequency, length, averageChunkLength, idf, parameters);
      if (seen[chunkId] === 0) {
        seen[chunkId] = 1;
        touched.push(chunkId);
      }
      scores[chunkId] = scores[chunkId]! + value;
    };
    for (const [term, weight] of queryTerms) {
      const frequency = this.documentFrequency(term);
      if (frequency === 0) continue;
      const idf = inverseDocumentFrequency(frequency, chunkCount);
      const slot = this.termSlots.get(term);
      if (slot !== undefined) {
        const end = this.offsets[slot + 1]!;
        for (let at = this.offsets[slot]!; at < end; at++) score(this.postingChunks[at]!, this.postingFrequencies[at]!, weight, idf);
      }
      const list = this.added.get(term);
      if (list) for (let at = 0; at < list.chunks.length; at++) score(list.chunks[at]!, list.frequencies[at]!, weight, idf);
    }
    return topK(touched, scores, limit);
  }

  /** Merges the delta into the base and drops removed chunks' postings. */
  compact(): void {
    if (this.pendingChanges() === 0) return;
    // The base terms are sorted already: only the new ones are sorted, then the two lists are merged.
    const fresh = [...this.added.keys()].filter((term) => !this.termSlots.has(term)).sort();
    const terms: string[] = new Array(this.terms.length + fresh.length);
    for (let left = 0, right = 0, at = 0; at < terms.length; at++) {
      terms[at] = right >= fresh.length || (left < this.terms.length && this.terms[left]! < fresh[right]!) ? this.terms[left++]! : fresh[right++]!;
    }
    const offsets = new Uint32Array(terms.length + 1);
    const capacity = this.postingChunks.length + this.addedPostings;
    const chunks = new Int32Array(capacity);
    const frequencies = new Uint16Array(capacity);
    let count = 0;
    let kept = 0;
    const lengths = this.lengths;
    for (const term of terms) {
      const start = count;
      const slot = this.termSlots.get(term);
      if (slot !== undefined) {
        for (let at = this.offsets[slot]!; at < this.offsets[slot + 1]!; at++) {
          const chunkId = this.postingChunks[at]!;
          if (lengths[chunkId]! < 0) continue;
          chunks[count] = chunkId;
          frequencies[count++] = this.postingFrequencies[at]!;
        }
      }
      const list = this.added.get(term);
      let sorted = true;
      if (list) {
        for (let at = 0; at < list.chunks.length; at++) {
          const chunkId = list.chunks[at]!;
          if (lengths[chunkId]! < 0) continue;
          if (count > start && chunks[count - 1]! > chunkId) sorted = false;
          chunks[count] = chunkId;
          frequencies[count++] = list.frequencies[at]!;
        }
      }
      if (count === start) continue;
      // Added chunks usually come with ids above the base's (ids only grow); when not, this term's postings are sorted.
      if (!sorted) {
        const order = Array.from({ length: count - start }, (_, index) => start + index).sort((left, right) => chunks[left]! - chunks[right]!);
        const sortedChunks = order.map((index) => chunks[index]!);
        const sortedFrequencies = order.map((index) => frequencies[index]!);
        chunks.set(sortedChunks, start);
        frequencies.set(sortedFrequencies, start);
      }
      offsets[kept] = start;
      terms[kept++] = term;
    }
    offsets[kept] = count;
    terms.length = kept;
    this.setBase(terms, offsets.slice(0, kept + 1), chunks.slice(0, count), frequencies.slice(0, count));
  }

  /**
   * Writes the compacted index to a file (atomically: a temporary file renamed over it). Layout: magic, version,
   * header length, header JSON, then the terms (UTF-8, one per line), offsets, posting chunk ids, frequencies and
   * chunk lengths, each typed array aligned to 4 bytes.
   */
  save(file: string, header: Omit<KeywordIndexHeader, 'version'>): void {
    this.compact();
    const headerBytes = Buffer.from(JSON.stringify({ ...header, version: KEYWORD_FILE_VERSION, terms: this.terms.length, postings: this.postingChunks.length, lengths: this.lengths.length }));
    const termBytes = Buffer.from(this.terms.join('\n'));
    const parts: Uint8Array[] = [];
    const intro = Buffer.alloc(12);
    intro.writeUInt32LE(MAGIC, 0);
    intro.writeUInt32LE(KEYWORD_FILE_VERSION, 4);
    intro.writeUInt32LE(headerBytes.length, 8);
    parts.push(intro, headerBytes);
    let size = 12 + headerBytes.length;
    const pad = () => {
      const padding = (4 - (size % 4)) % 4;
      if (padding) parts.push(Buffer.alloc(padding));
      size += padding;
    };
    const termLength = Buffer.alloc(4);
    termLength.writeUInt32LE(termBytes.length, 0);
    parts.push(termLength, termBytes);
    size += 4 + termBytes.length;
    for (const array of [this.offsets, this.postingChunks, this.lengths, this.postingFrequencies]) {
      pad();
      const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      parts.push(bytes);
      size += bytes.length;
    }
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, Buffer.concat(parts, size));
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  /** The index in a file written by save(), with its header; undefined when the file is absent, of another version or damaged. */
  static load(file: string): { index: KeywordIndex; header: KeywordIndexHeader } | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      return undefined;
    }
    try {
      if (bytes.length < 12 || bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== KEYWORD_FILE_VERSION) return undefined;
      const headerLength = bytes.readUInt32LE(8);
      const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as KeywordIndexHeader & { terms: number; postings: number; lengths: number };
      let at = 12 + headerLength;
      const termLength = bytes.readUInt32LE(at);
      at += 4;
      const terms = header.terms === 0 ? [] : bytes.subarray(at, at + termLength).toString('utf8').split('\n');
      at += termLength;
      const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, count: number, width: number): T => {
        at += (4 - (at % 4)) % 4;
        // Copied into an aligned buffer of its own: the file's Buffer may sit at any offset of a shared pool.
        const copy = new Uint8Array(count * width);
        copy.set(bytes.subarray(at, at + count * width));
        at += count * width;
        return make(copy.buffer, 0, count);
      };
      const offsets = take((buffer, offset, length) => new Uint32Array(buffer, offset, length), header.terms + 1, 4);
      const chunks = take((buffer, offset, length) => new Int32Array(buffer, offset, length), header.postings, 4);
      const lengths = take((buffer, offset, length) => new Float32Array(buffer, offset, length), header.lengths, 4);
      const frequencies = take((buffer, offset, length) => new Uint16Array(buffer, offset, length), header.postings, 2);
      if (terms.length !== header.terms || at > bytes.length || offsets[header.terms] !== header.postings) return undefined;
      const index = new KeywordIndex();
      index.lengths = lengths;
      for (const length of lengths) {
        if (length >= 0) {
          index.liveCount++;
          index.totalLength += length;
        }
      }
      index.setBase(terms, offsets, chunks, frequencies);
      return { index, header: { version: header.version, generation: header.generation, tokenizer: header.tokenizer } };
    } catch {
      return undefined;
    }
  }
}

/** The `limit` best touched chunks, best first; equal scores by chunk id ascending (as topScores in bm25.ts). */
function topK(touched: readonly number[], scores: Float64Array, limit: number): ScoredChunk[] {
  // A min-heap of the best so far: its root is the weakest kept result, replaced when a better one comes.
  const heap: number[] = [];
  const worse = (left: number, right: number) => scores[left]! < scores[right]! || (scores[left] === scores[right] && left > right);
  const siftDown = (start: number) => {
    let at = start;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let weakest = at;
      if (left < heap.length && worse(heap[left]!, heap[weakest]!)) weakest = left;
      if (right < heap.length && worse(heap[right]!, heap[weakest]!)) weakest = right;
      if (weakest === at) return;
      [heap[at], heap[weakest]] = [heap[weakest]!, heap[at]!];
      at = weakest;
    }
  };
  for (const chunkId of touched) {
    if (heap.length < limit) {
      heap.push(chunkId);
      let at = heap.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at]!, heap[parent]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (worse(heap[0]!, chunkId)) {
      heap[0] = chunkId;
      siftDown(0);
    }
  }
  return heap.sort((left, right) => scores[right]! - scores[left]! || left - right).map((chunkId) => [chunkId, scores[chunkId]!]);
}
