// Chooses the embedder from the configuration: the transformers.js model when installed (or required), else the
// built-in one, saying so in the log.
import type { Config } from '../config.ts';
import { BuiltinEmbedder } from './builtin.ts';
import { TransformersEmbedder, isModelInstalled } from './transformers.ts';
import type { Embedder } from './types.ts';

export type { Embedder } from './types.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export async function createEmbedder(config: Pick<Config, 'embedder' | 'modelsDir' | 'embeddingModel' | 'allowRemoteModels' | 'embedBatch'>, logger: Logger): Promise<Embedder> {
  const wantTransformers = config.embedder === 'transformers' || (config.embedder === 'auto' && isModelInstalled(config.modelsDir, config.embeddingModel));
  if (wantTransformers) {
    const embedder = await TransformersEmbedder.load({
      modelsDir: config.modelsDir,
      modelId: config.embeddingModel,
      allowRemoteModels: config.allowRemoteModels,
      maxBatch: config.embedBatch,
    });
    logger.info(`embeddings: transformers.js model ${config.embeddingModel} (${embedder.dimensions} dimensions)`);
    return embedder;
  }
  const embedder = new BuiltinEmbedder();
  logger.info(`embeddings: built-in offline embedder (no model in ${config.modelsDir}/${config.embeddingModel}; install one for better semantic matching, see README)`);
  return embedder;
}

/**
 * The weight of the vector list in fusion: as configured, or by default ("auto") 1 for a real model and 0 for the
 * built-in embedder, which adds nothing in fusion on any benchmark (docs/EVALUATION.md).
 */
export function denseWeightFor(config: Pick<Config, 'retrieval'>, embedder: Pick<Embedder, 'id'>): number {
  return config.retrieval.denseWeight === 'auto' ? (embedder.id.startsWith('builtin:') ? 0 : 1) : config.retrieval.denseWeight;
}

/**
 * What an index keeps of vectors (store/types.ts VectorMode): searched when ranking gives them weight; else
 * none for an embedder that computes them again at once, stored for a model whose vectors are costly.
 */
export function vectorModeFor(config: Pick<Config, 'retrieval'>, embedder: Embedder): 'indexed' | 'stored' | 'none' {
  if (denseWeightFor(config, embedder) > 0) return 'indexed';
  return embedder.embedDocumentNow ? 'none' : 'stored';
}

/** Document vectors for an index, in the embedder's batches; none (empty vectors) for an index that keeps none. */
export async function documentVectors(embedder: Embedder, texts: readonly string[], vectorMode: 'indexed' | 'stored' | 'none'): Promise<Float32Array[]> {
  if (vectorMode === 'none') return texts.map(() => new Float32Array(0));
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += embedder.maxBatch) vectors.push(...(await embedder.embedDocuments(texts.slice(start, start + embedder.maxBatch))));
  return vectors;
}
