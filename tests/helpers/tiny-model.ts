// Writes a tiny BERT-shaped sentence-embedding model in the layout transformers.js loads from a local folder:
// config.json, tokenizer.json (WordPiece), tokenizer_config.json and onnx/model.onnx, where the ONNX graph is a Gather
// over a small embedding table giving last_hidden_state. Real protobuf, real tokenizer, real onnxruntime: only the
// weights are made up.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import onnxModule from 'onnx-proto';
import { seededRandom } from '../../src/random.ts';

const { onnx } = onnxModule as unknown as { onnx: typeof import('onnx-proto').onnx };

export const TINY_HIDDEN_SIZE = 8;
const specialTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const words = [
  'query',
  'passage',
  ':',
  'vpn',
  'password',
  'reset',
  'printer',
  'toner',
  'spindle',
  'overheat',
  'leave',
  'days',
  'the',
  'how',
  'do',
  'i',
  'my',
  'a',
  'is',
  'what',
  '密',
  '码',
  '打',
  '印',
  '机',
  '年',
  '假',
  '##s',
  '##ing',
  '?',
  '.',
];

/** An ONNX tensor type with named (dynamic) or fixed dimensions. */
function tensorType(elemType: number, dims: (string | number)[]) {
  return { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) } } };
}

export function writeTinyModel(modelsDir: string, modelId: string): { folder: string; vocabulary: string[]; table: Float32Array } {
  const folder = path.join(modelsDir, modelId);
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  const vocabulary = [...specialTokens, ...words];
  const vocab = Object.fromEntries(vocabulary.map((token, index) => [token, index]));

  const next = seededRandom(42);
  const table = new Float32Array(vocabulary.length * TINY_HIDDEN_SIZE);
  for (let index = 0; index < table.length; index++) table[index] = next() * 2 - 1;

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'kb-qa tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny-bert',
      node: [{ opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['last_hidden_state'], name: 'lookup', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] }],
      initializer: [{ name: 'embeddings', dataType: onnx.TensorProto.DataType.FLOAT, dims: [vocabulary.length, TINY_HIDDEN_SIZE], rawData: new Uint8Array(table.buffer) }],
      input: [
        { name: 'input_ids', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'sequence']) },
        { name: 'attention_mask', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'sequence']) },
      ],
      output: [{ name: 'last_hidden_state', type: tensorType(onnx.TensorProto.DataType.FLOAT, ['batch', 'sequence', TINY_HIDDEN_SIZE]) }],
    },
  });
  writeFileSync(path.join(folder, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());

  writeFileSync(
    path.join(folder, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: TINY_HIDDEN_SIZE, vocab_size: vocabulary.length, max_position_embeddings: 512, pad_token_id: 0 }),
  );
  writeFileSync(
    path.join(folder, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 512,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
    }),
  );
  writeFileSync(
    path.join(folder, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    }),
  );
  return { folder, vocabulary, table };
}

/**
 * A tiny BERT-shaped cross-encoder: logits = mean over the tokens of (1 if the token is "vpn" else 0), so a pair
 * whose passage mentions VPN scores higher. Real ONNX graph (Gather → ReduceMean → MatMul), real tokenizer.
 */
export function writeTinyReranker(modelsDir: string, modelId: string): void {
  const { folder, vocabulary } = writeTinyModel(modelsDir, modelId);
  const hidden = 2;
  const table = new Float32Array(vocabulary.length * hidden);
  table[vocabulary.indexOf('vpn') * hidden] = 1;
  const weights = new Float32Array([1, 0]);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'kb-qa tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny-cross-encoder',
      node: [
        { opType: 'Gather', input: ['embeddings', 'input_ids'], output: ['hidden'], name: 'lookup', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
        {
          opType: 'ReduceMean',
          input: ['hidden'],
          output: ['pooled'],
          name: 'pool',
          attribute: [
            { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] },
            { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
          ],
        },
        { opType: 'MatMul', input: ['pooled', 'classifier'], output: ['logits'], name: 'classify' },
      ],
      initializer: [
        { name: 'embeddings', dataType: onnx.TensorProto.DataType.FLOAT, dims: [vocabulary.length, hidden], rawData: new Uint8Array(table.buffer) },
        { name: 'classifier', dataType: onnx.TensorProto.DataType.FLOAT, dims: [hidden, 1], rawData: new Uint8Array(weights.buffer) },
      ],
      input: [
        { name: 'input_ids', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'sequence']) },
        { name: 'attention_mask', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'sequence']) },
        { name: 'token_type_ids', type: tensorType(onnx.TensorProto.DataType.INT64, ['batch', 'sequence']) },
      ],
      output: [{ name: 'logits', type: tensorType(onnx.TensorProto.DataType.FLOAT, ['batch', 1]) }],
    },
  });
  writeFileSync(path.join(folder, 'onnx', 'model.onnx'), onnx.ModelProto.encode(model).finish());
  writeFileSync(
    path.join(folder, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      architectures: ['BertForSequenceClassification'],
      hidden_size: hidden,
      vocab_size: vocabulary.length,
      num_labels: 1,
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      max_position_embeddings: 512,
      pad_token_id: 0,
    }),
  );
}
