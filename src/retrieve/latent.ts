// Latent semantic vectors learned from the indexed corpus itself (LSA: a truncated SVD of the chunk × term tf-idf
// matrix). Without pretrained weights this is how the offline setup relates words that occur in the same chunks
// ("lift" and "wing", "heat transfer" and "boundary layer"): terms that share contexts get nearby vectors, so a chunk
// can match a question that uses its topic's other words. It is judged by what it adds in fusion with BM25
// (docs/EVALUATION.md), not alone.
//   w(t, c)      = (1 + ln tf) · idf(t), each chunk's row scaled to unit length;  idf(t) = ln(N / df)
//   A ≈ U Σ Vᵀ   (rank k, randomized SVD: Halko, Martinsson & Tropp 2011, with power iterations)
//   chunk vector = Σ_t w(t, c) · V[t]      query vector = Σ_t idf(t) · V[t]      score = cosine
// Everything is deterministic (seeded), so a corpus always gets the same vectors.
import { seededRandom } from '../random.ts';

export interface LatentSettings {
  /** Rank k of the projection, 16..512 (capped at half the chunk count); 150 measured best over cranfield and clapnq. */
  dimensions: number;
  /** Power iterations of the randomized SVD, 1..6: more is closer to the exact SVD and slower. */
  powerIterations: number;
  /** Terms kept, by document frequency (1,000..500,000): bounds memory on large corpora. */
  maxTerms: number;
}

export const defaultLatentSettings: LatentSettings = { dimensions: 150, powerIterations: 3, maxTerms: 100_000 };

/** Fewer chunks than this give no useful co-occurrence statistics: no model. */
const MIN_CHUNKS = 20;
/** Oversampling of the randomized SVD (extra columns beyond k). */
const OVERSAMPLING = 10;

export interface LatentModel {
  dimensions: number;
  terms: Map<string, number>;
  idf: Float64Array;
  /** termCount × dimensions, row-major. */
  termVectors: Float32Array;
  /** Unit vector of each chunk. */
  chunkVectors: Map<number, Float32Array>;
}

/** Only single words and CJK bigrams: the index's adjacent-word pairs (with a space) would duplicate their words. */
const isLatentTerm = (term: string) => !term.includes(' ');

interface SparseRows {
  /** Row i's entries are at offsets[i] .. offsets[i + 1]. */
  offsets: Int32Array;
  columns: Int32Array;
  values: Float64Array;
  rows: number;
  columnCount: number;
}

/** Y (rows × width) = A · M, M is columnCount × width. */
function multiply(matrix: SparseRows, right: Float64Array, width: number): Float64Array {
  const result = new Float64Array(matrix.rows * width);
  for (let row = 0; row < matrix.rows; row++) {
    const base = row * width;
    for (let entry = matrix.offsets[row]!; entry < matrix.offsets[row + 1]!; entry++) {
      const value = matrix.values[entry]!;
      const other = matrix.columns[entry]! * width;
      for (let column = 0; column < width; column++) result[base + column]! += value * right[other + column]!;
    }
  }
  return result;
}

/** Z (columnCount × width) = Aᵀ · Q, Q is rows × width. */
function multiplyTransposed(matrix: SparseRows, left: Float64Array, width: number): Float64Array {
  const result = new Float64Array(matrix.columnCount * width);
  for (let row = 0; row < matrix.rows; row++) {
    const base = row * width;
    for (let entry = matrix.offsets[row]!; entry < matrix.offsets[row + 1]!; entry++) {
      const value = matrix.values[entry]!;
      const other = matrix.columns[entry]! * width;
      for (let column = 0; column < width; column++) result[other + column]! += value * left[base + column]!;
    }
  }
  return result;
}

/** Orthonormalizes the columns of a rows × width row-major matrix in place (modified Gram-Schmidt, done on a
 * column-major copy for memory locality; a null column stays 0). */
function orthonormalize(matrix: Float64Array, rows: number, width: number): void {
  const columns = new Float64Array(rows * width);
  for (let row = 0; row < rows; row++) for (let column = 0; column < width; column++) columns[column * rows + row] = matrix[row * width + column]!;
  for (let column = 0; column < width; column++) {
    const current = columns.subarray(column * rows, (column + 1) * rows);
    for (let previous = 0; previous < column; previous++) {
      const other = columns.subarray(previous * rows, (previous + 1) * rows);
      let dot = 0;
      for (let row = 0; row < rows; row++) dot += current[row]! * other[row]!;
      for (let row = 0; row < rows; row++) current[row]! -= dot * other[row]!;
    }
    let norm = 0;
    for (let row = 0; row < rows; row++) norm += current[row]! ** 2;
    norm = Math.sqrt(norm);
    for (let row = 0; row < rows; row++) current[row] = norm > 1e-12 ? current[row]! / norm : 0;
  }
  for (let row = 0; row < rows; row++) for (let column = 0; column < width; column++) matrix[row * width + column] = columns[column * rows + row]!;
}

/** Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric size × size matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(input: Float64Array, size: number): { values: Float64Array; vectors: Float64Array } {
  const matrix = Float64Array.from(input);
  const vectors = new Float64Array(size * size);
  for (let index = 0; index < size; index++) vectors[index * size + index] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < size; p++) for (let q = p + 1; q < size; q++) off += matrix[p * size + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = matrix[p * size + q]!;
        if (Math.abs(apq) < 1e-30) continue;
        const theta = (matrix[q * size + q]! - matrix[p * size + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = matrix[k * size + p]!;
          const akq = matrix[k * size + q]!;
          matrix[k * size + p] = c * akp - s * akq;
          matrix[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = matrix[p * size + k]!;
          const aqk = matrix[q * size + k]!;
          matrix[p * size + k] = c * apk - s * aqk;
          matrix[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vkp = vectors[k * size + p]!;
          const vkq = vectors[k * size + q]!;
          vectors[k * size + p] = c * vkp - s * vkq;
          vectors[k * size + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(size);
  for (let index = 0; index < size; index++) values[index] = matrix[index * size + index]!;
  return { values, vectors };
}

/** Fits the projection on every chunk's term frequencies; undefined when the corpus is too small for one. */
export function fitLatentModel(chunks: Iterable<readonly [number, ReadonlyMap<string, number>]>, settings: LatentSettings = defaultLatentSettings): LatentModel | undefined {
  const steps = fitSteps(chunks, settings);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** The same fit, giving the event loop a turn between its heavy steps (each a fraction of a second). */
export async function fitLatentModelInSteps(chunks: Iterable<readonly [number, ReadonlyMap<string, number>]>, settings: LatentSettings = defaultLatentSettings): Promise<LatentModel | undefined> {
  const steps = fitSteps(chunks, settings);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* fitSteps(chunks: Iterable<readonly [number, ReadonlyMap<string, number>]>, settings: LatentSettings): Generator<void, LatentModel | undefined> {
  const chunkIds: number[] = [];
  const chunkTerms: [string, number][][] = [];
  const documentFrequency = new Map<string, number>();
  for (const [id, terms] of chunks) {
    const kept = [...terms].filter(([term]) => isLatentTerm(term));
    chunkIds.push(id);
    chunkTerms.push(kept);
    for (const [term] of kept) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  const rows = chunkIds.length;
  if (rows < MIN_CHUNKS) return undefined;
  // Terms of a single chunk stay: they shape nothing, but a question that names one (a person, a code) is placed
  // where its chunk is (measured: dropping them cost clapnq 0.13 nDCG@10).
  const vocabulary = [...documentFrequency].sort((left, right) => right[1] - left[1] || (left[0] < right[0] ? -1 : 1)).slice(0, settings.maxTerms);
  const terms = new Map(vocabulary.map(([term], index) => [term, index]));
  const idf = Float64Array.from(vocabulary, ([, frequency]) => Math.log(rows / frequency));
  const dimensions = Math.min(settings.dimensions, Math.floor(rows / 2), Math.max(1, terms.size - OVERSAMPLING));
  if (dimensions < 2) return undefined;

  const offsets = new Int32Array(rows + 1);
  const columns: number[] = [];
  const values: number[] = [];
  chunkTerms.forEach((entries, row) => {
    const start = columns.length;
    let norm = 0;
    for (const [term, frequency] of entries) {
      const column = terms.get(term);
      if (column === undefined) continue;
      const weight = (1 + Math.log(frequency)) * idf[column]!;
      columns.push(column);
      values.push(weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm);
    for (let entry = start; entry < values.length; entry++) values[entry] = norm > 0 ? values[entry]! / norm : 0;
    offsets[row + 1] = columns.length;
  });
  const matrix: SparseRows = { offsets, columns: Int32Array.from(columns), values: Float64Array.from(values), rows, columnCount: terms.size };

  const width = Math.min(dimensions + OVERSAMPLING, terms.size, rows);
  // The range of A is found from the terms of two or more chunks (the ones that shape the space, usually a minority
  // of the vocabulary), and only the chunk side is orthonormalized: with tens of thousands of terms and a few
  // thousand chunks this is what keeps the fit to seconds.
  const random = seededRandom(0x5eed);
  const omega = new Float64Array(terms.size * width);
  vocabulary.forEach(([, frequency], term) => {
    if (frequency < 2) return;
    for (let column = 0; column < width; column++) omega[term * width + column] = random() * 2 - 1;
  });
  let range = multiply(matrix, omega, width);
  yield;
  for (let iteration = 0; iteration < settings.powerIterations; iteration++) {
    orthonormalize(range, rows, width);
    yield;
    const back = multiplyTransposed(matrix, range, width);
    yield;
    range = multiply(matrix, back, width);
    yield;
  }
  orthonormalize(range, rows, width);
  yield;
  // B = Qᵀ A; B Bᵀ = Qᵀ A Aᵀ Q (width × width) gives B's left singular vectors W and σ². Computed from the chunk side
  // (rows × width² operations) rather than the term side, which is usually ten times larger.
  const back = multiplyTransposed(matrix, range, width);
  yield;
  const spread = multiply(matrix, back, width);
  yield;
  const gram = new Float64Array(width * width);
  for (let row = 0; row < rows; row++) {
    const base = row * width;
    for (let left = 0; left < width; left++) {
      const value = range[base + left]!;
      if (value === 0) continue;
      for (let right = 0; right < width; right++) gram[left * width + right]! += value * spread[base + right]!;
    }
  }
  for (let left = 0; left < width; left++) for (let right = 0; right < left; right++) gram[left * width + right] = gram[right * width + left] = (gram[left * width + right]! + gram[right * width + left]!) / 2;
  const { values: eigenvalues, vectors } = symmetricEigen(gram, width);
  const order = [...eigenvalues.keys()].sort((left, right) => eigenvalues[right]! - eigenvalues[left]!).slice(0, dimensions);

  // V_k = Bᵀ W_k Σ⁻¹ = Aᵀ (Q W_k Σ⁻¹): each term's coordinates on the top k right singular vectors.
  const scaledRange = new Float64Array(rows * dimensions);
  order.forEach((eigenIndex, dimension) => {
    const sigma = Math.sqrt(Math.max(eigenvalues[eigenIndex]!, 0));
    if (sigma < 1e-12) return;
    for (let row = 0; row < rows; row++) {
      let sum = 0;
      for (let inner = 0; inner < width; inner++) sum += range[row * width + inner]! * vectors[inner * width + eigenIndex]!;
      scaledRange[row * dimensions + dimension] = sum / sigma;
    }
  });
  yield;
  const termVectors = Float32Array.from(multiplyTransposed(matrix, scaledRange, dimensions));
  yield;

  const model: LatentModel = { dimensions, terms, idf, termVectors, chunkVectors: new Map() };
  for (const [row, id] of chunkIds.entries()) {
    const vector = foldIn(model, chunkTerms[row]!);
    if (vector) model.chunkVectors.set(id, vector);
    if (row % 2000 === 1999) yield;
  }
  return model;
}

/** A chunk's unit vector from its term frequencies (terms the model does not know are skipped). */
export function foldIn(model: LatentModel, terms: Iterable<readonly [string, number]>): Float32Array | undefined {
  const accumulator = new Float64Array(model.dimensions);
  for (const [term, frequency] of terms) {
    const index = model.terms.get(term);
    if (index === undefined || frequency <= 0) continue;
    const weight = (1 + Math.log(frequency)) * model.idf[index]!;
    const base = index * model.dimensions;
    for (let dimension = 0; dimension < model.dimensions; dimension++) accumulator[dimension]! += weight * model.termVectors[base + dimension]!;
  }
  const vector = new Float32Array(model.dimensions);
  return writeUnit(accumulator, vector, 0) ? vector : undefined;
}

function writeUnit(vector: Float64Array, target: Float32Array, offset: number): boolean {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) return false;
  for (let index = 0; index < vector.length; index++) target[offset + index] = vector[index]! / norm;
  return true;
}

/** The query's vector (idf-weighted sum of its known terms' vectors), or undefined when it knows none of them. */
export function latentQueryVector(model: LatentModel, queryTerms: Iterable<string>): Float32Array | undefined {
  const accumulator = new Float64Array(model.dimensions);
  let known = 0;
  for (const term of queryTerms) {
    const index = model.terms.get(term);
    if (index === undefined) continue;
    known++;
    const weight = model.idf[index]!;
    for (let dimension = 0; dimension < model.dimensions; dimension++) accumulator[dimension]! += weight * model.termVectors[index * model.dimensions + dimension]!;
  }
  const vector = new Float32Array(model.dimensions);
  return known > 0 && writeUnit(accumulator, vector, 0) ? vector : undefined;
}

/** Chunks by cosine with the query vector, best first (only `allowed` ones when given). */
export function latentSearch(model: LatentModel, vector: Float32Array, limit: number, allowed?: ReadonlySet<number>): [number, number][] {
  const scored: [number, number][] = [];
  for (const [id, chunkVector] of model.chunkVectors) {
    if (allowed && !allowed.has(id)) continue;
    let dot = 0;
    for (let dimension = 0; dimension < model.dimensions; dimension++) dot += chunkVector[dimension]! * vector[dimension]!;
    if (dot > 0) scored.push([id, dot]);
  }
  return scored.sort((left, right) => right[1] - left[1] || left[0] - right[0]).slice(0, limit);
}

/** What the latent index needs from the store. */
export interface LatentSource {
  generation(): number;
  chunkIds(): readonly number[];
  allChunkTerms(): Iterable<readonly [number, ReadonlyMap<string, number>]>;
  chunkTerms(chunkIds: readonly number[]): Map<number, Map<string, number>>;
}

/**
 * Keeps a latent model in step with a changing index without refitting on every write: chunks added since the fit are
 * folded into the existing space (their vectors from the learned term vectors), removed ones dropped, and the model
 * is learned again when the chunk count has moved by more than REFIT_CHANGE since the fit. The first model is learned
 * at once; later ones in the background, in steps that leave the event loop to queries, which keep the current model
 * until the new one is ready. An ingestion that runs while the server answers therefore costs a fold-in per new
 * chunk, and no query waits for a fit.
 */
export class LatentIndex {
  private model: LatentModel | undefined;
  private fittedChunks = 0;
  private generation = -1;
  private refitting: Promise<void> | undefined;
  /** Seconds the last fit took (for logs and benchmarks). */
  lastFitSeconds = 0;

  constructor(
    private readonly source: LatentSource,
    private readonly settings: LatentSettings,
    /** Above this many chunks no model is learned (the fit grows with chunks × k²). */
    private readonly maxChunks: number,
  ) {}

  /** The model for the source's current generation. */
  current(): LatentModel | undefined {
    const generation = this.source.generation();
    if (generation === this.generation) return this.model;
    this.generation = generation;
    const ids = this.source.chunkIds();
    if (ids.length > this.maxChunks) {
      this.model = undefined;
      this.fittedChunks = 0;
      return undefined;
    }
    if (!this.model) {
      const started = performance.now();
      this.model = fitLatentModel(this.source.allChunkTerms(), this.settings);
      this.fittedChunks = this.model ? ids.length : 0;
      this.lastFitSeconds = (performance.now() - started) / 1000;
      return this.model;
    }
    if (!this.refitting && Math.abs(ids.length - this.fittedChunks) > REFIT_CHANGE * this.fittedChunks) {
      this.refitting = this.refit().finally(() => (this.refitting = undefined));
    }
    const model = this.model;
    const present = new Set(ids);
    for (const id of model.chunkVectors.keys()) if (!present.has(id)) model.chunkVectors.delete(id);
    const added = ids.filter((id) => !model.chunkVectors.has(id));
    for (let start = 0; start < added.length; start += 500) {
      for (const [id, terms] of this.source.chunkTerms(added.slice(start, start + 500))) {
        const vector = foldIn(model, terms);
        if (vector) model.chunkVectors.set(id, vector);
      }
    }
    return model;
  }

  /** Resolves when no background fit is running (for tests and benchmarks). */
  async settled(): Promise<void> {
    while (this.refitting) await this.refitting;
  }

  private async refit(): Promise<void> {
    const started = performance.now();
    try {
      const chunks = [...this.source.allChunkTerms()];
      const model = await fitLatentModelInSteps(chunks, this.settings);
      if (!model) return;
      this.model = model;
      this.fittedChunks = chunks.length;
      this.lastFitSeconds = (performance.now() - started) / 1000;
      // Chunks written during the fit are folded in (and removed ones dropped) by the next current().
      this.generation = -1;
    } catch {
      // The store closed under the fit, or it failed: the current model stays.
    }
  }
}

/** Share of the fitted chunk count by which the index may grow or shrink before the model is learned again, 0.05..1. */
const REFIT_CHANGE = 0.25;
