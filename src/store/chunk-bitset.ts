// The chunks a search may return, as one bit per chunk id: a read scope or a filter resolved once (and cached per
// index generation), then checked per posting or per graph node in O(1), instead of a Set of every allowed chunk id
// built for every request.

export interface ChunkPredicate {
  has(chunkId: number): boolean;
  /** How many chunks are allowed. */
  readonly size: number;
}

export class ChunkBitset implements ChunkPredicate {
  private readonly words: Uint32Array;
  readonly size: number;

  constructor(ids: Iterable<number>, largestId: number) {
    this.words = new Uint32Array((Math.max(largestId, 0) >>> 5) + 1);
    let size = 0;
    for (const id of ids) {
      if (id < 0 || id > largestId) continue;
      const word = id >>> 5;
      const bit = 1 << (id & 31);
      if ((this.words[word]! & bit) === 0) {
        this.words[word]! |= bit;
        size++;
      }
    }
    this.size = size;
  }

  has(chunkId: number): boolean {
    const word = chunkId >>> 5;
    return word < this.words.length && (this.words[word]! & (1 << (chunkId & 31))) !== 0;
  }
}
