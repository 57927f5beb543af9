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
import { inverseDocumentFrequency, type Bm25Parameters } from '../retrieve/bm25.ts';
import type { KeywordStatistics, ScoredChunk } from './types.ts';
import type { ChunkPredicate } from './chunk-bitset.ts';

/** Version of the keyword file; a file of another version is ignored and rebuilt from the database. */
export const KEYWORD_FILE_VERSION = 1;
const MAGIC = 0x4b424b57; // "KBKW"
/** Term frequencies are stored in 16 bits; a term repeated more often in one chunk counts 65,535 times. */
const MAX_FREQUENCY = 0xffff;
/**
 * Postings the delta may hold before it is merged into the base (100k..10M). Measured on 78k chunks (15M postings):
 * 2M keeps an ingest's heap near 600 MB; a delta allowed to grow with the base reached 1 GB.
 */
const DELTA_COMPACT_POSTINGS = 2_000_000;

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

export class MemoryKeywordIndex {
  private terms = SortedTerms.of([]);
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
  private scratchScores = new Float64Array(0);
  private scratchMarks = new Uint8Array(0);
  /** Terms of the chunks added since the last compaction, for chunkTerms(). */
  private addedTerms = new Map<number, ReadonlyMap<string, number>>();
  /** The base postings by chunk (term slots and frequencies), built on the first chunkTerms() call after a compaction. */
  private forward: { offsets: Uint32Array; slots: Uint32Array; frequencies: Uint16Array } | undefined;

  /** Builds an index from postings sorted by term (then chunk id) and every chunk's length. */
  static fromSorted(postings: Iterable<KeywordPosting>, chunkLengths: Iterable<[chunkId: number, length: number]>): MemoryKeywordIndex {
    const index = new MemoryKeywordIndex();
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
    index.setBase(SortedTerms.of(terms), Uint32Array.from(offsets), chunks.slice(0, count), frequencies.slice(0, count));
    return index;
  }

  private setBase(terms: SortedTerms, offsets: Uint32Array, chunks: Int32Array, frequencies: Uint16Array): void {
    this.terms = terms;
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

  /**
   * A term's slot in the base by binary search over the sorted terms. A Map of 1.4M terms (78k chunks) took 2 s to
   * build at every start and 100 MB; a query looks up a handful of terms.
   */
  private slotOf(term: string): number | undefined {
    let low = 0;
    let high = this.terms.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = this.terms.at(middle);
      if (candidate === term) return middle;
      if (candidate < term) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
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

  /**
   * Adds a chunk with its term frequencies (a chunk id is never reused). The delta is merged into the base once it
   * holds DELTA_COMPACT_POSTINGS: postings in JS arrays and per-chunk maps take ten times the memory of the typed
   * arrays (an ingest of 78k chunks peaked at 2.1 GB before).
   */
  add(chunkId: number, terms: ReadonlyMap<string, number>): void {
    this.addOne(chunkId, terms);
    if (this.addedPostings >= DELTA_COMPACT_POSTINGS) this.compact();
  }

  private addOne(chunkId: number, terms: ReadonlyMap<string, number>): void {
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
      for (let at = forward.offsets[chunkId]!; at < forward.offsets[chunkId + 1]!; at++) terms.set(this.terms.at(forward.slots[at]!), forward.frequencies[at]!);
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

  /** Live chunks holding the term. */
  documentFrequency(term: string): number {
    const cached = this.frequencyCache.get(term);
    if (cached !== undefined) return cached;
    let count = 0;
    const slot = this.slotOf(term);
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
  search(queryTerms: ReadonlyMap<string, number>, parameters: Bm25Parameters, limit: number, allowed?: ChunkPredicate): ScoredChunk[] {
    if (limit <= 0 || this.liveCount === 0) return [];
    const { chunkCount, averageChunkLength } = this.statistics();
    // Scratch arrays kept between queries (a search runs to the end without yielding): allocating and zeroing 1 MB
    // per query at 100k chunks cost more than the scoring. Only the touched entries are reset afterwards.
    if (this.scratchScores.length < this.lengths.length) {
      this.scratchScores = new Float64Array(this.lengths.length);
      this.scratchMarks = new Uint8Array(this.lengths.length);
    }
    const scores = this.scratchScores;
    const marks = this.scratchMarks;
    const lengths = this.lengths;
    const touched: number[] = [];
    const SEEN = 1;
    const { k1, b } = parameters;
    // bm25TermScore inlined, the same operations in the same order (scores equal rankBm25's to the bit).
    const add = (chunkId: number, frequency: number, weight: number, idf: number) => {
      const length = lengths[chunkId]!;
      if (length < 0 || (allowed !== undefined && !allowed.has(chunkId))) return;
      const mark = marks[chunkId]!;
      const lengthRatio = averageChunkLength > 0 ? length / averageChunkLength : 1;
      const value = weight * ((idf * frequency * (k1 + 1)) / (frequency + k1 * (1 - b + b * lengthRatio)));
      if ((mark & SEEN) === 0) {
        marks[chunkId] = mark | SEEN;
        touched.push(chunkId);
      }
      const total = scores[chunkId]! + value;
      scores[chunkId] = total;
      if (total > best) best = total;
    };
    let best = 0;
    try {
      // MaxScore, term at a time: terms are scored in query order (per-chunk sums add up in the same order as the
      // reference). Once the best score the remaining terms could still add (their upper bounds, `remaining`) is below
      // the current limit-th score, no unseen chunk can enter the results: the remaining terms only update the chunks
      // that still can, found in each posting list by binary search. RM3's frequent expansion terms come last with
      // small weights, so at 100k chunks most of their postings are never read.
      const entries = [...queryTerms].map(([term, weight]) => {
        const frequency = this.documentFrequency(term);
        const idf = frequency === 0 ? 0 : inverseDocumentFrequency(frequency, chunkCount);
        // tf·(k1+1)/(tf+k1·norm) < k1+1 for every tf: a strict upper bound of the term's contribution.
        return { term, weight, idf, bound: frequency === 0 ? 0 : weight * idf * (k1 + 1) * (1 + 1e-9) };
      });
      // Bounds of the terms after each one, summed from the end (a running subtraction drifts below zero).
      const after = new Float64Array(entries.length);
      for (let index = entries.length - 2; index >= 0; index--) after[index] = after[index + 1]! + entries[index + 1]!.bound;
      let lastTry = Infinity;
      let alive: number[] | undefined;
      for (const [index, { term, weight, idf, bound }] of entries.entries()) {
        const remaining = after[index]!;
        if (bound === 0) continue;
        const slot = this.slotOf(term);
        const list = this.added.get(term);
        if (alive) {
          const added = list ? new Map(list.chunks.map((chunkId, at) => [chunkId, list.frequencies[at]!])) : undefined;
          for (const chunkId of alive) {
            const frequency = this.baseFrequencyOf(slot, chunkId) || (added?.get(chunkId) ?? 0);
            if (frequency > 0) add(chunkId, frequency, weight, idf);
          }
        } else {
          if (slot !== undefined) {
            const chunks = this.postingChunks;
            const frequencies = this.postingFrequencies;
            const end = this.offsets[slot + 1]!;
            for (let at = this.offsets[slot]!; at < end; at++) add(chunks[at]!, frequencies[at]!, weight, idf);
          }
          if (list) for (let at = 0; at < list.chunks.length; at++) add(list.chunks[at]!, list.frequencies[at]!, weight, idf);
        }
        // The threshold costs a pass over the touched chunks: computed only when the remaining bound could be below
        // it (below the best score so far) and has halved since the last try.
        if (alive || touched.length < limit || remaining >= best || remaining > lastTry / 2) continue;
        lastTry = remaining;
        const threshold = kthScore(touched, scores, limit);
        if (remaining < threshold) alive = touched.filter((chunkId) => scores[chunkId]! + remaining >= threshold);
      }
      return topK(alive ?? touched, scores, limit);
    } finally {
      for (const chunkId of touched) scores[chunkId] = 0;
      for (const chunkId of touched) marks[chunkId] = 0;
    }
  }

  /** A chunk's frequency in a base posting list (sorted by chunk id), by binary search; 0 when absent. */
  private baseFrequencyOf(slot: number | undefined, chunkId: number): number {
    if (slot === undefined) return 0;
    let low = this.offsets[slot]!;
    let high = this.offsets[slot + 1]! - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const candidate = this.postingChunks[middle]!;
      if (candidate === chunkId) return this.postingFrequencies[middle]!;
      if (candidate < chunkId) low = middle + 1;
      else high = middle - 1;
    }
    return 0;
  }

  /** Merges the delta into the base and drops removed chunks' postings. */
  compact(): void {
    if (this.pendingChanges() === 0) return;
    // The base terms are sorted already: only the new ones are sorted, then the two lists are merged.
    const fresh = [...this.added.keys()].filter((term) => this.slotOf(term) === undefined).sort();
    const terms: string[] = new Array(this.terms.length + fresh.length);
    const base = this.terms.all();
    for (let left = 0, right = 0, at = 0; at < terms.length; at++) {
      terms[at] = right >= fresh.length || (left < base.length && base[left]! < fresh[right]!) ? base[left++]! : fresh[right++]!;
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
      const slot = this.slotOf(term);
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
    this.setBase(SortedTerms.of(terms), offsets.slice(0, kept + 1), chunks.slice(0, count), frequencies.slice(0, count));
  }

  /**
   * Writes the compacted index to a file (atomically: a temporary file renamed over it). Layout: magic, version,
   * header length, header JSON, then the terms (UTF-8, one per line), offsets, posting chunk ids, frequencies and
   * chunk lengths, each typed array aligned to 4 bytes.
   */
  save(file: string, header: Omit<KeywordIndexHeader, 'version'>): void {
    this.compact();
    const headerBytes = Buffer.from(JSON.stringify({ ...header, version: KEYWORD_FILE_VERSION, terms: this.terms.length, postings: this.postingChunks.length, lengths: this.lengths.length }));
    const termBytes = Buffer.from(this.terms.text);
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
  static load(file: string): { index: MemoryKeywordIndex; header: KeywordIndexHeader } | undefined {
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
      const terms = header.terms === 0 ? SortedTerms.of([]) : SortedTerms.parse(bytes.subarray(at, at + termLength).toString('utf8'));
      at += termLength;
      const take = <T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, count: number, width: number): T => {
        at += (4 - (at % 4)) % 4;
        const start = bytes.byteOffset + at;
        at += count * width;
        // A view on the file's bytes when aligned (a large file has a buffer of its own); else an aligned copy.
        if (start % width === 0) return make(bytes.buffer as ArrayBuffer, start, count);
        const copy = new Uint8Array(count * width);
        copy.set(bytes.subarray(at - count * width, at));
        return make(copy.buffer, 0, count);
      };
      const offsets = take((buffer, offset, length) => new Uint32Array(buffer, offset, length), header.terms + 1, 4);
      const chunks = take((buffer, offset, length) => new Int32Array(buffer, offset, length), header.postings, 4);
      const lengths = take((buffer, offset, length) => new Float32Array(buffer, offset, length), header.lengths, 4);
      const frequencies = take((buffer, offset, length) => new Uint16Array(buffer, offset, length), header.postings, 2);
      if (terms.length !== header.terms || at > bytes.length || offsets[header.terms] !== header.postings) return undefined;
      const index = new MemoryKeywordIndex();
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

/**
 * The base's sorted terms as one string (terms separated by newlines) with the start of each: 1.4M separate strings
 * (78k chunks) took a third of the load time and 60 MB of heap; a lookup slices the ~21 terms its binary search reads.
 */
class SortedTerms {
  private constructor(
    readonly text: string,
    /** starts[i]: where term i begins; starts[length]: text.length + 1. */
    private readonly starts: Uint32Array,
  ) {}

  static of(terms: readonly string[]): SortedTerms {
    return SortedTerms.parse(terms.join('\n'), terms.length);
  }

  static parse(text: string, count?: number): SortedTerms {
    if (count === 0 || (count === undefined && text.length === 0)) return new SortedTerms('', new Uint32Array([1]));
    const starts: number[] = [0];
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    starts.push(text.length + 1);
    return new SortedTerms(text, Uint32Array.from(starts));
  }

  get length(): number {
    return this.starts.length - 1;
  }

  at(index: number): string {
    return this.text.slice(this.starts[index]!, this.starts[index + 1]! - 1);
  }

  all(): string[] {
    return this.length === 0 ? [] : this.text.split('\n');
  }
}

/** The `limit`-th best score among the touched chunks (a min-heap of the best `limit`). */
function kthScore(touched: readonly number[], scores: Float64Array, limit: number): number {
  const heap: number[] = [];
  const siftDown = () => {
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let least = at;
      if (left < heap.length && heap[left]! < heap[least]!) least = left;
      if (right < heap.length && heap[right]! < heap[least]!) least = right;
      if (least === at) return;
      [heap[at], heap[least]] = [heap[least]!, heap[at]!];
      at = least;
    }
  };
  for (const chunkId of touched) {
    const score = scores[chunkId]!;
    if (heap.length < limit) {
      heap.push(score);
      let at = heap.length - 1;
      while (at > 0 && heap[(at - 1) >> 1]! > heap[at]!) {
        [heap[at], heap[(at - 1) >> 1]] = [heap[(at - 1) >> 1]!, heap[at]!];
        at = (at - 1) >> 1;
      }
    } else if (score > heap[0]!) {
      heap[0] = score;
      siftDown();
    }
  }
  return heap.length < limit ? -Infinity : heap[0]!;
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
