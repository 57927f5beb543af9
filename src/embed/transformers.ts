// Sentence embeddings with transformers.js from an ONNX model in a local folder (no hub access unless configured).
// E5 models expect "query: " and "passage: " prefixes; vectors are mean-pooled and normalized.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KbError, describeError } from '../errors.ts';
import type { Embedder } from './types.ts';

export interface TransformersEmbedderOptions {
  modelsDir: string;
  modelId: string;
  allowRemoteModels: boolean;
  maxBatch?: number;
}

type FeatureExtractor = (texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>;

/** The model's folder holds config.json, tokenizer files and onnx/model.onnx (or model_quantized.onnx). */
export function isModelInstalled(modelsDir: string, modelId: string): boolean {
  const folder = path.join(modelsDir, modelId);
  return existsSync(path.join(folder, 'config.json')) && (existsSync(path.join(folder, 'onnx', 'model.onnx')) || existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')));
}

export class TransformersEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  readonly maxBatch: number;
  private readonly queryPrefix: string;
  private readonly passagePrefix: string;

  private constructor(
    private readonly extractor: FeatureExtractor,
    modelId: string,
    dimensions: number,
    maxBatch: number,
  ) {
    this.dimensions = dimensions;
    this.maxBatch = maxBatch;
    this.id = `transformers:${modelId}:${dimensions}`;
    const isE5 = /(^|[/-])e5[-_]/i.test(modelId) || /multilingual-e5/i.test(modelId);
    this.queryPrefix = isE5 ? 'query: ' : '';
    this.passagePrefix = isE5 ? 'passage: ' : '';
  }

  static async load(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const folder = path.join(options.modelsDir, options.modelId);
    if (!options.allowRemoteModels && !isModelInstalled(options.modelsDir, options.modelId)) {
      throw new KbError('KB_ERR_EMBEDDER', { details: `model ${options.modelId} is not installed in ${options.modelsDir} (see README: "Install a real embedding model")` });
    }
    try {
      const transformers = await import('@huggingface/transformers');
      transformers.env.allowRemoteModels = options.allowRemoteModels;
      transformers.env.allowLocalModels = true;
      transformers.env.localModelPath = options.modelsDir.endsWith(path.sep) ? options.modelsDir : options.modelsDir + path.sep;
      const quantized = existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')) && !existsSync(path.join(folder, 'onnx', 'model.onnx'));
      const extractor = (await transformers.pipeline('feature-extraction', options.modelId, { dtype: quantized ? 'q8' : 'fp32', device: 'cpu' })) as unknown as FeatureExtractor;
      const config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')) as { hidden_size?: number };
      let dimensions = config.hidden_size;
      if (typeof dimensions !== 'number') {
        const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
        dimensions = probe.dims[probe.dims.length - 1]!;
      }
      return new TransformersEmbedder(extractor, options.modelId, dimensions, options.maxBatch ?? 16);
    } catch (error) {
      if (error instanceof KbError) throw error;
      throw new KbError('KB_ERR_EMBEDDER', { details: `cannot load ${options.modelId} from ${options.modelsDir}: ${describeError(error)}` }, { cause: error });
    }
  }

  private async run(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.maxBatch) {
      const batch = texts.slice(start, start + this.maxBatch);
      const output = await this.extractor([...batch], { pooling: 'mean', normalize: true });
      for (let row = 0; row < batch.length; row++) vectors.push(Float32Array.from(output.data.subarray(row * this.dimensions, (row + 1) * this.dimensions)));
    }
    return vectors;
  }

  embedDocuments(texts: readonly string[]): Promise<Float32Array[]> {
    return this.run(texts.map((text) => this.passagePrefix + text));
  }

  async embedQuery(text: string): Promise<Float32Array> {
    return (await this.run([this.queryPrefix + text]))[0]!;
  }
}
