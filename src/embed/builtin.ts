// The built-in offline embedder: no weights, Chinese and English. It hashes lexical features into a fixed-size
// vector (the "hashing trick"): stemmed words, character trigrams of Latin words (robust to inflection and typos),
// CJK unigrams and bigrams. It is no semantic model; its job is to add fuzzy lexical matching to BM25 in fusion, and
// to keep the service working out of the box until a real model is installed.
import { stem as stemmer } from 'porter2';
import { runPattern } from '../text/patterns.ts';
import { englishStopwords } from '../text/stopwords.ts';
import { normalize } from '../text/tokenize.ts';
import { normalizeInPlace, type Embedder } from './types.ts';

/** Vector size. 256..2048: larger means fewer hash collisions but a slower vector index. */
export const BUILTIN_DIMENSIONS = 512;
/** Weight of one Latin character trigram relative to a whole word (0..1); the trigrams of a word share it. */
const TRIGRAM_WEIGHT = 0.6;
/** Weight of a CJK single character relative to a bigram (0..1). */
const CJK_UNIGRAM_WEIGHT = 0.4;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function builtinFeatures(text: string): Map<string, number> {
  const features = new Map<string, number>();
  const add = (feature: string, weight: number) => features.set(feature, (features.get(feature) ?? 0) + weight);
  for (const match of normalize(text).matchAll(runPattern())) {
    if (match[1] !== undefined) {
      const characters = Array.from(match[1]);
      for (let index = 0; index < characters.length; index++) {
        add('c:' + characters[index], CJK_UNIGRAM_WEIGHT);
        if (index + 1 < characters.length) add('b:' + characters[index] + characters[index + 1], 1);
      }
    } else if (match[2] !== undefined) {
      const word = match[2];
      if (englishStopwords.has(word)) continue;
      add('w:' + stemmer(word), 1);
      if (word.length > 3 && /^\p{L}+$/u.test(word)) {
        const padded = `#${word}#`;
        const count = padded.length - 2;
        for (let index = 0; index < count; index++) add('t:' + padded.slice(index, index + 3), TRIGRAM_WEIGHT / Math.sqrt(count));
      }
    }
  }
  return features;
}

export function builtinVector(text: string, dimensions = BUILTIN_DIMENSIONS): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const [feature, weight] of builtinFeatures(text)) {
    const hash = fnv1a(feature);
    // Sub-linear above one occurrence (weights below 1 are fractional features, kept as they are); the sign bit
    // makes colliding features cancel rather than add up.
    const damped = weight <= 1 ? weight : 1 + Math.log(weight);
    vector[hash % dimensions]! += (hash & 0x80000000 ? -1 : 1) * damped;
  }
  return normalizeInPlace(vector);
}

export class BuiltinEmbedder implements Embedder {
  readonly id = `builtin:hashed-ngrams-v2:${BUILTIN_DIMENSIONS}`;
  readonly dimensions = BUILTIN_DIMENSIONS;
  readonly maxBatch = 256;

  async embedDocuments(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => builtinVector(text));
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return builtinVector(text);
  }

  embedDocumentNow(text: string): Float32Array {
    return builtinVector(text);
  }
}
