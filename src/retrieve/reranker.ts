// A cross-encoder reranker through transformers.js (for example Xenova/bge-reranker-base, Chinese and English),
// loaded from KB_MODELS_DIR when installed: it reads query and passage together and scores their relevance, which
// BM25 and bi-encoders cannot. Applied to the top fused candidates only, since it costs one model pass per pair.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KbError, describeError } from '../errors.ts';

export interface Reranker {
  readonly id: string;
  /** One relevance score per passage (higher is more relevant; the scale is the model's). */
  score(query: string, passages: readonly string[]): Promise<number[]>;
}

type Tokenizer = (texts: string[], options: { text_pair: string[]; padding: boolean; truncation: boolean; max_length?: number }) => Record<string, unknown>;
type Classifier = (inputs: Record<string, unknown>) => Promise<{ logits: { data: Float32Array | number[]; dims: number[] } }>;

export function isRerankerInstalled(modelsDir: string, modelId: string): boolean {
  const folder = path.join(modelsDir, modelId);
  return existsSync(path.join(folder, 'config.json')) && (existsSync(path.join(folder, 'onnx', 'model.onnx')) || existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')));
}

export class CrossEncoderReranker implements Reranker {
  readonly id: string;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly model: Classifier,
    modelId: string,
    private readonly batchSize: number,
  ) {
    this.id = `transformers:${modelId}`;
  }

  static async load(options: { modelsDir: string; modelId: string; allowRemoteModels: boolean; batchSize?: number }): Promise<CrossEncoderReranker> {
    try {
      const transformers = await import('@huggingface/transformers');
      transformers.env.allowRemoteModels = options.allowRemoteModels;
      transformers.env.allowLocalModels = true;
      transformers.env.localModelPath = options.modelsDir.endsWith(path.sep) ? options.modelsDir : options.modelsDir + path.sep;
      const folder = path.join(options.modelsDir, options.modelId);
      const quantized = existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')) && !existsSync(path.join(folder, 'onnx', 'model.onnx'));
      const tokenizer = (await transformers.AutoTokenizer.from_pretrained(options.modelId)) as unknown as Tokenizer;
      const model = (await transformers.AutoModelForSequenceClassification.from_pretrained(options.modelId, { dtype: quantized ? 'q8' : 'fp32', device: 'cpu' })) as unknown as Classifier;
      return new CrossEncoderReranker(tokenizer, model, options.modelId, options.batchSize ?? 16);
    } catch (error) {
      throw new KbError('KB_ERR_EMBEDDER', { details: `cannot load the reranker ${options.modelId} from ${options.modelsDir}: ${describeError(error)}` }, { cause: error });
    }
  }

  async score(query: string, passages: readonly string[]): Promise<number[]> {
    const scores: number[] = [];
    for (let start = 0; start < passages.length; start += this.batchSize) {
      const batch = passages.slice(start, start + this.batchSize);
      const inputs = this.tokenizer(new Array<string>(batch.length).fill(query), { text_pair: [...batch], padding: true, truncation: true, max_length: 512 });
      const { logits } = await this.model(inputs);
      const labels = logits.dims[1] ?? 1;
      // One label: the relevance logit. Two labels (irrelevant, relevant): their difference.
      for (let row = 0; row < batch.length; row++) scores.push(labels === 1 ? Number(logits.data[row]) : Number(logits.data[row * labels + labels - 1]) - Number(logits.data[row * labels]));
    }
    return scores;
  }
}
