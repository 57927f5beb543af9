import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BuiltinEmbedder, BUILTIN_DIMENSIONS } from '../../src/embed/builtin.ts';
import { createEmbedder } from '../../src/embed/index.ts';
import { TransformersEmbedder, isModelInstalled } from '../../src/embed/transformers.ts';
import { KbError } from '../../src/errors.ts';
import { CrossEncoderReranker, isRerankerInstalled } from '../../src/retrieve/reranker.ts';
import { TINY_HIDDEN_SIZE, writeTinyModel, writeTinyReranker } from '../helpers/tiny-model.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const dot = (left: Float32Array, right: Float32Array) => left.reduce((sum, value, index) => sum + value * right[index]!, 0);
const norm = (vector: Float32Array) => Math.sqrt(dot(vector, vector));

describe('built-in embedder', () => {
  const embedder = new BuiltinEmbedder();

  it('gives unit vectors of the declared size, the same for the same text', async () => {
    const [first, second] = await embedder.embedDocuments(['Reset the VPN password', 'Reset the VPN password']);
    assert.equal(first!.length, BUILTIN_DIMENSIONS);
    assert.ok(Math.abs(norm(first!) - 1) < 1e-5);
    assert.deepEqual(Array.from(first!), Array.from(second!));
  });

  it('places related texts closer than unrelated ones, in English and Chinese', async () => {
    const query = await embedder.embedQuery('spindle overheating alarm');
    const [related, unrelated] = await embedder.embedDocuments(['The spindle motor overheats; the alarm lamp lights.', 'Annual leave is requested in the HR portal.']);
    assert.ok(dot(query, related!) > dot(query, unrelated!));
    const chineseQuery = await embedder.embedQuery('打印机卡纸');
    const [chineseRelated, chineseUnrelated] = await embedder.embedDocuments(['打印机卡纸时先关闭电源', '年假需要提前申请']);
    assert.ok(dot(chineseQuery, chineseRelated!) > dot(chineseQuery, chineseUnrelated!));
  });

  it('matches inflected and misspelled words through character trigrams', async () => {
    const query = await embedder.embedQuery('calibrating');
    const [close, far] = await embedder.embedDocuments(['calibration', 'lubrication']);
    assert.ok(dot(query, close!) > dot(query, far!));
  });
});

describe('transformers.js embedder with a generated ONNX model', () => {
  const modelsDir = temporaryDirectory();
  const modelId = 'test/tiny-e5-bert';
  const { vocabulary, table } = writeTinyModel(modelsDir, modelId);

  /** Mean of the embedding rows of the tokens, normalized: what mean pooling over last_hidden_state gives. */
  function expected(tokens: string[]): number[] {
    const sum = new Array<number>(TINY_HIDDEN_SIZE).fill(0);
    for (const token of tokens) {
      const row = vocabulary.indexOf(token);
      assert.ok(row >= 0, `token ${token} not in the vocabulary`);
      for (let column = 0; column < TINY_HIDDEN_SIZE; column++) sum[column]! += table[row * TINY_HIDDEN_SIZE + column]! / tokens.length;
    }
    const length = Math.sqrt(sum.reduce((total, value) => total + value * value, 0));
    return sum.map((value) => value / length);
  }

  it('loads from the local folder with remote loading off and embeds with E5 prefixes', async () => {
    assert.ok(isModelInstalled(modelsDir, modelId));
    const embedder = await TransformersEmbedder.load({ modelsDir, modelId, allowRemoteModels: false });
    assert.equal(embedder.dimensions, TINY_HIDDEN_SIZE);
    assert.equal(embedder.id, `transformers:${modelId}:${TINY_HIDDEN_SIZE}`);
    const query = await embedder.embedQuery('VPN password?');
    const want = expected(['[CLS]', 'query', ':', 'vpn', 'password', '?', '[SEP]']);
    query.forEach((value, index) => assert.ok(Math.abs(value - want[index]!) < 1e-5, `dimension ${index}: ${value} vs ${want[index]}`));
    const [document] = await embedder.embedDocuments(['printer toner']);
    const wantDocument = expected(['[CLS]', 'passage', ':', 'printer', 'toner', '[SEP]']);
    document!.forEach((value, index) => assert.ok(Math.abs(value - wantDocument[index]!) < 1e-5));
  });

  it('embeds batches larger than maxBatch and Chinese text (one token per character)', async () => {
    const embedder = await TransformersEmbedder.load({ modelsDir, modelId, allowRemoteModels: false, maxBatch: 2 });
    const vectors = await embedder.embedDocuments(['打印机', '年假', 'printer', 'leave days', 'toner']);
    assert.equal(vectors.length, 5);
    const want = expected(['[CLS]', 'passage', ':', '打', '印', '机', '[SEP]']);
    vectors[0]!.forEach((value, index) => assert.ok(Math.abs(value - want[index]!) < 1e-5));
  });

  it('is chosen automatically when installed, and the built-in one otherwise', async () => {
    const settings = { embedder: 'auto' as const, modelsDir, embeddingModel: modelId, allowRemoteModels: false, embedBatch: 8 };
    assert.ok((await createEmbedder(settings, silentLogger)).id.startsWith('transformers:'));
    const messages: string[] = [];
    const fallback = await createEmbedder({ ...settings, embeddingModel: 'absent/model' }, { info: (message) => messages.push(message), warn: () => {} });
    assert.ok(fallback.id.startsWith('builtin:'));
    assert.match(messages.join('\n'), /built-in offline embedder/);
  });

  it('fails clearly when the model is required but missing', async () => {
    await assert.rejects(
      createEmbedder({ embedder: 'transformers', modelsDir: path.join(modelsDir, 'none'), embeddingModel: modelId, allowRemoteModels: false, embedBatch: 8 }, silentLogger),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_EMBEDDER' && /not installed/.test(error.message),
    );
  });
});

describe('cross-encoder reranker with a generated ONNX model', () => {
  it('scores query–passage pairs through transformers.js', async () => {
    const modelsDir = temporaryDirectory();
    writeTinyReranker(modelsDir, 'test/tiny-reranker');
    assert.ok(isRerankerInstalled(modelsDir, 'test/tiny-reranker'));
    const reranker = await CrossEncoderReranker.load({ modelsDir, modelId: 'test/tiny-reranker', allowRemoteModels: false, batchSize: 2 });
    // The tiny model's logit is the share of "vpn" tokens in [CLS] query [SEP] passage [SEP].
    const scores = await reranker.score('reset my password', ['printer toner', 'vpn password reset', 'vpn vpn']);
    assert.equal(scores.length, 3);
    assert.equal(scores[0], 0);
    assert.ok(Math.abs(scores[1]! - 1 / 9) < 1e-6, String(scores[1]));
    assert.ok(Math.abs(scores[2]! - 2 / 8) < 1e-6, String(scores[2]));
  });
});
