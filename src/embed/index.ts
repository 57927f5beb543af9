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
  const wantTransformers =
    config.embedder === 'transformers' || (config.embedder === 'auto' && isModelInstalled(config.modelsDir, config.embeddingModel));
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
  logger.info(
    `embeddings: built-in offline embedder (no model in ${config.modelsDir}/${config.embeddingModel}; install one for better semantic matching, see README)`,
  );
  return embedder;
}
