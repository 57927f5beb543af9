// Downloads a transformers.js model into KB_MODELS_DIR on a machine that can reach the model hub (a connected
// builder, or the Docker build with --build-arg EMBEDDING_MODEL=...). The service itself never downloads.
//   npm run fetch-model -- Xenova/multilingual-e5-small
import path from 'node:path';
import { loadConfig, loadDotEnv } from '../src/config.ts';
import { isModelInstalled } from '../src/embed/transformers.ts';

loadDotEnv();
const config = loadConfig();
const modelId = process.argv[2] ?? config.embeddingModel;
const transformers = await import('@huggingface/transformers');
transformers.env.allowRemoteModels = true;
transformers.env.cacheDir = config.modelsDir;
transformers.env.localModelPath = config.modelsDir + path.sep;
process.stderr.write(`downloading ${modelId} into ${config.modelsDir} …\n`);
const extractor = await transformers.pipeline('feature-extraction', modelId, { dtype: 'fp32' });
const probe = await extractor(['query: test'], { pooling: 'mean', normalize: true });
process.stderr.write(`ok: ${modelId}, ${probe.dims.at(-1)} dimensions; installed: ${isModelInstalled(config.modelsDir, modelId)}\n`);
