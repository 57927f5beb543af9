import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bm25TermScore, inverseDocumentFrequency, rankBm25 } from '../../src/retrieve/bm25.ts';
import { maximumRrfScore, reciprocalRankFusion } from '../../src/retrieve/fusion.ts';
import { containsAnswer, ndcgAtK, recallAtK, reciprocalRankAtK, rocAuc, tokenF1 } from '../../src/evaluation/metrics.ts';
import { thresholdSweep } from '../../src/evaluation/qa.ts';

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

describe('BM25', () => {
  it('computes idf and the term score as in the formula', () => {
    close(inverseDocumentFrequency(1, 10), Math.log(1 + 9.5 / 1.5));
    // tf 2, |d| = avgdl: 2·2.2 / (2 + 1.2) · idf
    close(bm25TermScore(2, 100, 100, 1, { k1: 1.2, b: 0.75 }), (2 * 2.2) / 3.2);
    // b = 0 ignores length
    close(bm25TermScore(1, 1000, 10, 1, { k1: 1.2, b: 0 }), 1);
  });

  it('ranks by summed term scores and weights query terms', () => {
    const postings = new Map([
      [
        'a',
        [
          { chunkId: 1, termFrequency: 1, chunkLength: 10 },
          { chunkId: 2, termFrequency: 3, chunkLength: 10 },
        ],
      ],
      ['b', [{ chunkId: 1, termFrequency: 1, chunkLength: 10 }]],
    ]);
    const ranked = rankBm25(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
      postings,
      10,
      10,
      { k1: 1.2, b: 0.75 },
      10,
    );
    assert.equal(ranked[0]![0], 1);
    const onlyA = rankBm25(new Map([['a', 1]]), postings, 10, 10, { k1: 1.2, b: 0.75 }, 10);
    assert.equal(onlyA[0]![0], 2);
  });
});

describe('reciprocal-rank fusion', () => {
  it('sums weight / (k + rank) over lists', () => {
    const fused = reciprocalRankFusion(
      [
        {
          results: [
            [1, 9],
            [2, 8],
          ],
        },
        {
          results: [
            [2, 0.9],
            [3, 0.8],
          ],
          weight: 2,
        },
      ],
      60,
    );
    const scores = new Map(fused);
    close(scores.get(1)!, 1 / 61);
    close(scores.get(2)!, 1 / 62 + 2 / 61);
    close(scores.get(3)!, 2 / 62);
    assert.deepEqual(
      fused.map(([id]) => id),
      [2, 3, 1],
    );
    close(maximumRrfScore([{ results: [] }, { results: [], weight: 2 }], 60), 3 / 61);
  });
});

describe('evaluation metrics', () => {
  it('nDCG@k uses graded gain 2^rel − 1 and a log2 discount', () => {
    const judgments = new Map([
      ['a', 2],
      ['b', 1],
    ]);
    close(ndcgAtK(['a', 'b'], judgments, 10), 1);
    const expected = (1 / Math.log2(2) + 3 / Math.log2(3)) / (3 / Math.log2(2) + 1 / Math.log2(3));
    close(ndcgAtK(['b', 'a'], judgments, 10), expected);
    close(ndcgAtK(['x'], judgments, 10), 0);
  });

  it('recall@k and MRR@k', () => {
    const judgments = new Map([
      ['a', 1],
      ['b', 1],
    ]);
    close(recallAtK(['x', 'a', 'y'], judgments, 2), 0.5);
    close(reciprocalRankAtK(['x', 'y', 'b'], judgments, 10), 1 / 3);
    close(reciprocalRankAtK(['x', 'y', 'b'], judgments, 2), 0);
  });

  it('answer containment ignores case, spaces and thousands separators', () => {
    assert.ok(containsAnswer('Change oil every 4000 hours', ['4,000']));
    assert.ok(containsAnswer('每运行 5000小时更换', ['5000 小时']));
    assert.ok(!containsAnswer('every 400 hours', ['4,000']));
  });

  it('token F1 counts Chinese characters and English words', () => {
    close(tokenF1('the red lamp', 'red lamp'), 0.8);
    close(tokenF1('年假十五天', '十五天'), 0.75);
  });
});

describe('answerability figures', () => {
  it('ROC AUC is the share of positive–negative pairs ordered right, ties counting half', () => {
    close(rocAuc([0.9, 0.8], [0.1, 0.2]), 1);
    close(rocAuc([0.1], [0.9]), 0);
    close(rocAuc([0.5, 0.9], [0.5, 0.1]), (0.5 + 1 + 1 + 1) / 4);
  });

  it('the threshold sweep gives the answered and refused shares at each threshold', () => {
    const outcome = (answerable: boolean, confidence: number) => ({ id: '', answerable, refused: false, citedGold: false, retrievedGold: false, contains: false, f1: 0, confidence });
    const sweep = thresholdSweep([outcome(true, 0.9), outcome(true, 0.45), outcome(false, 0.2), outcome(false, 0.6)], [0.4, 0.5, 0.7]);
    assert.deepEqual(
      sweep.map((point) => [point.answered, point.refused]),
      [
        [1, 0.5],
        [0.5, 0.5],
        [0.5, 1],
      ],
    );
  });
});

describe('maximal marginal relevance', () => {
  it('keeps relevance order at λ = 1 and pushes a near-duplicate down at λ < 1', async () => {
    const { maximalMarginalRelevance, jaccard } = await import('../../src/retrieve/diversity.ts');
    const terms = new Map([
      [1, new Set(['a', 'b', 'c'])],
      [2, new Set(['a', 'b', 'c'])],
      [3, new Set(['x', 'y'])],
    ]);
    const similarity = (left: number, right: number) => jaccard(terms.get(left)!, terms.get(right)!);
    const candidates = [
      { id: 1, relevance: 1 },
      { id: 2, relevance: 0.95 },
      { id: 3, relevance: 0.8 },
    ];
    assert.deepEqual(
      maximalMarginalRelevance(candidates, similarity, 3, 1).map((item) => item.id),
      [1, 2, 3],
    );
    assert.deepEqual(
      maximalMarginalRelevance(candidates, similarity, 3, 0.7).map((item) => item.id),
      [1, 3, 2],
    );
    close(jaccard(new Set(['a', 'b']), new Set(['b', 'c'])), 1 / 3);
  });
});
