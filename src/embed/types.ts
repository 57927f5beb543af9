// The Embedder seam: texts in, unit-length vectors out. The id names provider, model and dimensions; it is written
// into the index manifest so that an index is never queried with vectors from another model.

export interface Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly maxBatch: number;
  embedDocuments(texts: readonly string[]): Promise<Float32Array[]>;
  embedQuery(text: string): Promise<Float32Array>;
  /**
   * A document vector computed at once, for embedders whose vectors cost less to compute again than to store (the
   * built-in hashed n-grams): an index that does not search vectors need not keep them.
   */
  embedDocumentNow?(text: string): Float32Array;
}

export function normalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let index = 0; index < vector.length; index++) vector[index]! /= norm;
  return vector;
}
