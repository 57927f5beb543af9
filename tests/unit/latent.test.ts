import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/random.ts';
import { fitLatentModel, fitLatentModelInSteps, LatentIndex, latentQueryVector, latentSearch, symmetricEigen, type LatentSource } from '../../src/retrieve/latent.ts';

const settings = { dimensions: 8, powerIterations: 3, maxTerms: 10_000 };

/**
 * Chunks about two topics (even ids: turbines, odd ids: invoices); each takes three of its topic's words at random
 * (seeded) and a word of its own, so a topic's words co-occur in every combination.
 */
function twoTopics(count: number, start = 0): [number, Map<string, number>][] {
  const turbines = ['turbine', 'blade', 'rotor', 'vibration', 'bearing', 'shaft'];
  const invoices = ['invoice', 'payment', 'vendor', 'ledger', 'approval', 'refund'];
  const random = seededRandom(7 + start);
  return Array.from({ length: count }, (_, index) => {
    // Three distinct words of the topic (a partial Fisher-Yates shuffle).
    const words = [...(index % 2 === 0 ? turbines : invoices)];
    for (let position = 0; position < 3; position++) {
      const other = position + Math.floor(random() * (words.length - position));
      [words[position], words[other]] = [words[other]!, words[position]!];
    }
    const picked = [words[0]!, words[1]!, words[2]!, `own${start + index}`];
    return [start + index, new Map(picked.map((word) => [word, 1 + Math.floor(random() * 3)]))];
  });
}

function source(chunks: [number, Map<string, number>][]): LatentSource & { chunks: [number, Map<string, number>][]; generationValue: number } {
  return {
    chunks,
    generationValue: 1,
    generation() {
      return this.generationValue;
    },
    chunkIds() {
      return this.chunks.map(([id]) => id);
    },
    allChunkTerms() {
      return this.chunks;
    },
    chunkTerms(ids: readonly number[]) {
      const wanted = new Set(ids);
      return new Map(this.chunks.filter(([id]) => wanted.has(id)));
    },
  };
}

describe('symmetric eigen decomposition', () => {
  it('reconstructs the matrix from its eigenvalues and orthonormal eigenvectors', () => {
    const size = 5;
    const matrix = new Float64Array(size * size);
    for (let row = 0; row < size; row++) for (let column = 0; column <= row; column++) matrix[row * size + column] = matrix[column * size + row] = Math.sin(row * 7 + column * 3) + (row === column ? 3 : 0);
    const { values, vectors } = symmetricEigen(matrix, size);
    for (let row = 0; row < size; row++) {
      for (let column = 0; column < size; column++) {
        let rebuilt = 0;
        let identity = 0;
        for (let k = 0; k < size; k++) {
          rebuilt += vectors[row * size + k]! * values[k]! * vectors[column * size + k]!;
          identity += vectors[k * size + row]! * vectors[k * size + column]!;
        }
        assert.ok(Math.abs(rebuilt - matrix[row * size + column]!) < 1e-9, `A[${row}][${column}]`);
        assert.ok(Math.abs(identity - (row === column ? 1 : 0)) < 1e-9, `VᵀV[${row}][${column}]`);
      }
    }
  });
});

describe('latent vectors learned from the corpus', () => {
  it('finds a chunk that shares no word with the question through words that co-occur with it elsewhere', () => {
    const chunks = twoTopics(60);
    const target = 1000;
    chunks.push([target, new Map([['rotor', 1], ['bearing', 1]])]);
    // Two topics: two directions are enough to tell them apart, and few enough to generalize across a topic's words.
    const model = fitLatentModel(chunks, { ...settings, dimensions: 2 })!;
    const vector = latentQueryVector(model, ['turbine', 'blade'])!;
    const ranked = latentSearch(model, vector, 100);
    const rank = ranked.findIndex(([id]) => id === target);
    const firstInvoice = ranked.findIndex(([id]) => id !== target && id % 2 === 1);
    // BM25 would not find it at all: it has neither word.
    assert.ok(!chunks.find(([id]) => id === target)![1].has('turbine') && !chunks.find(([id]) => id === target)![1].has('blade'));
    assert.ok(rank >= 0, 'the target chunk is found');
    assert.ok(firstInvoice === -1 || rank < firstInvoice, `the turbine chunk (rank ${rank}) comes before every invoice chunk (first at ${firstInvoice})`);
  });

  it('learns orthonormal directions, deterministically, at once or in steps', async () => {
    const chunks = twoTopics(80);
    const first = fitLatentModel(chunks, settings)!;
    const second = (await fitLatentModelInSteps(chunks, settings))!;
    assert.deepEqual(first.termVectors, second.termVectors);
    // The term vectors are the rows of V_k: VᵀV = I over the terms.
    const { dimensions, termVectors, terms } = first;
    for (let left = 0; left < dimensions; left++) {
      for (let right = left; right < dimensions; right++) {
        let dot = 0;
        for (let term = 0; term < terms.size; term++) dot += termVectors[term * dimensions + left]! * termVectors[term * dimensions + right]!;
        // A direction of a rank-deficient corpus may be 0; a present one is unit length and orthogonal to the others.
        if (left === right) assert.ok(Math.abs(dot - 1) < 1e-3 || Math.abs(dot) < 1e-6, `‖v${left}‖² = ${dot}`);
        else assert.ok(Math.abs(dot) < 1e-3, `v${left}·v${right} = ${dot}`);
      }
    }
    for (const chunkVector of first.chunkVectors.values()) assert.ok(Math.abs(Math.hypot(...chunkVector) - 1) < 1e-5);
  });

  it('needs a corpus: no model under 20 chunks, and no vector for a question of unknown words', () => {
    assert.equal(fitLatentModel(twoTopics(10), settings), undefined);
    const model = fitLatentModel(twoTopics(40), settings)!;
    assert.equal(latentQueryVector(model, ['nothing', 'known']), undefined);
  });
});

describe('the latent index of a changing collection', () => {
  it('folds new chunks in, drops removed ones, and learns again only after a large change', async () => {
    const data = source(twoTopics(100));
    const index = new LatentIndex(data, settings, 1000);
    const fitted = index.current()!;
    assert.equal(fitted.chunkVectors.size, 100);

    // +10 chunks, −5: folded into the same model, not learned again.
    data.chunks = [...data.chunks.slice(5), ...twoTopics(10, 500)];
    data.generationValue++;
    const folded = index.current()!;
    assert.equal(folded, fitted);
    assert.equal(folded.chunkVectors.size, 105);
    assert.ok(!folded.chunkVectors.has(0) && folded.chunkVectors.has(509));

    // +60%: learned again, in the background; meanwhile the current model answers, with the new chunks folded in.
    data.chunks = [...data.chunks, ...twoTopics(60, 2000)];
    data.generationValue++;
    const meanwhile = index.current()!;
    assert.equal(meanwhile, fitted);
    assert.equal(meanwhile.chunkVectors.size, 165);
    await index.settled();
    const refitted = index.current()!;
    assert.notEqual(refitted, fitted);
    assert.equal(refitted.chunkVectors.size, 165);

    // Beyond the limit: no model at all.
    const limited = new LatentIndex(source(twoTopics(100)), settings, 50);
    assert.equal(limited.current(), undefined);
  });
});
