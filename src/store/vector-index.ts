// The vector index: hnswlib's HNSW graph in memory and in vectors.hnsw. It is a copy of the vectors the database
// holds, saved with the database generation it matches (vectors.state.json); a missing, stale or unreadable file
// means a rebuild from the database (local-store.ts decides, this class only keeps the graph).
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import type { ScoredChunk } from './types.ts';
import type { ChunkPredicate } from './chunk-bitset.ts';

export const VECTOR_FILE = 'vectors.hnsw';
export const VECTOR_STATE_FILE = 'vectors.state.json';
/** Capacity of a new graph; it doubles when full. */
const INITIAL_CAPACITY = 1024;

export interface HnswParameters {
  /** Graph degree, 4..64: higher gives better recall and a larger index. */
  m: number;
  /** Build-time beam, 16..800. */
  efConstruction: number;
  /** Query-time beam, 16..800: higher gives better recall and slower queries. */
  efSearch: number;
}

interface VectorState {
  formatVersion: number;
  generation: number;
  dimensions: number;
}

export class HnswVectorIndex {
  private graph: hnswlib.HierarchicalNSW;
  /** Chunk ids present (not deleted) in the graph. */
  private live = new Set<number>();

  constructor(
    private readonly dataDir: string,
    private readonly dimensions: number,
    private readonly parameters: HnswParameters,
  ) {
    this.graph = this.newGraph(0);
  }

  private newGraph(capacity: number): hnswlib.HierarchicalNSW {
    const graph = new hnswlib.HierarchicalNSW('cosine', this.dimensions);
    graph.initIndex({ maxElements: Math.max(INITIAL_CAPACITY, capacity), m: this.parameters.m, efConstruction: this.parameters.efConstruction, randomSeed: 100, allowReplaceDeleted: true });
    graph.setEf(this.parameters.efSearch);
    return graph;
  }

  /** Loads the saved graph when it was saved at `generation` by this format; false when it must be rebuilt. */
  load(generation: number, formatVersion: number, ids: Iterable<number>): boolean {
    const file = path.join(this.dataDir, VECTOR_FILE);
    const stateFile = path.join(this.dataDir, VECTOR_STATE_FILE);
    let state: VectorState | undefined;
    try {
      state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as VectorState) : undefined;
    } catch {
      state = undefined;
    }
    if (!state || state.formatVersion !== formatVersion || state.generation !== generation || state.dimensions !== this.dimensions || !existsSync(file)) return false;
    try {
      const graph = new hnswlib.HierarchicalNSW('cosine', this.dimensions);
      graph.readIndexSync(file, true);
      graph.setEf(this.parameters.efSearch);
      this.graph = graph;
      this.live = new Set(ids);
      return true;
    } catch {
      // An unreadable file is only a copy: the caller rebuilds it from the database.
      return false;
    }
  }

  /** A new graph of these vectors, replacing the current one. */
  rebuild(vectors: ReadonlyMap<number, Float32Array>): void {
    const graph = this.newGraph(vectors.size * 2);
    for (const [id, vector] of vectors) graph.addPoint(Array.from(vector), id);
    this.graph = graph;
    this.live = new Set(vectors.keys());
  }

  /** Whether a file was ever saved here (an empty index need not write one). */
  hasFile(): boolean {
    return existsSync(path.join(this.dataDir, VECTOR_FILE));
  }

  add(id: number, vector: Float32Array): void {
    if (this.graph.getCurrentCount() >= this.graph.getMaxElements()) this.graph.resizeIndex(this.graph.getMaxElements() * 2);
    this.graph.addPoint(Array.from(vector), id, true);
    this.live.add(id);
  }

  remove(id: number): void {
    if (this.live.delete(id)) this.graph.markDelete(id);
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  ids(): number[] {
    return [...this.live];
  }

  /** Nearest chunks by cosine similarity, among the allowed ones when given. */
  search(vector: Float32Array, limit: number, allowed?: ChunkPredicate): ScoredChunk[] {
    const available = allowed ? Math.min(allowed.size, this.live.size) : this.live.size;
    const k = Math.min(limit, available);
    if (k <= 0) return [];
    const filter = allowed ? (label: number) => allowed.has(label) : undefined;
    const { neighbors, distances } = this.graph.searchKnn(Array.from(vector), k, filter);
    // Cosine space: distance = 1 - cosine similarity.
    return neighbors.map((label, position) => [label, 1 - distances[position]!] as ScoredChunk);
  }

  /** The stored (normalized) vector of a live label; undefined for a label never added or deleted. */
  point(label: number): number[] | undefined {
    try {
      return this.graph.getPoint(label);
    } catch {
      return undefined; // getPoint throws "Label not found"
    }
  }

  /** Every label the graph answers for (deleted ones excluded). */
  labels(): number[] {
    return this.graph.getIdsList().filter((label) => this.point(label) !== undefined);
  }

  /** Writes the graph and the generation it matches, each atomically (a temporary file renamed over it). */
  save(generation: number, formatVersion: number): void {
    const file = path.join(this.dataDir, VECTOR_FILE);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
      this.graph.writeIndexSync(temporary);
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    const state: VectorState = { formatVersion, generation, dimensions: this.dimensions };
    const stateFile = path.join(this.dataDir, VECTOR_STATE_FILE);
    const stateTemporary = `${stateFile}.${process.pid}.tmp`;
    writeFileSync(stateTemporary, JSON.stringify(state) + '\n');
    renameSync(stateTemporary, stateFile);
  }
}
