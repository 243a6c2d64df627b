import type { FlatRange } from "./flat-range.js";

/**
 * The view under construction: sorted, disjoint ranges that only ever gain
 * insertions in gaps. A flat array makes each insertion O(n) (memmove), which is
 * quadratic on large maps; chunks of at most `maxChunk` ranges make an insertion
 * O(maxChunk) and a seek logarithmic, while iteration stays in address order.
 */
export class RangeList {
  readonly #chunks: FlatRange[][] = [[]];
  readonly #maxChunk: number;

  constructor(maxChunk = 128) {
    this.#maxChunk = maxChunk;
  }

  /** Position of the first range that ends after `pos`. */
  seek(pos: bigint): RangeCursor {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid]!;
      const last = chunk[chunk.length - 1];
      if (last !== undefined && last.start + last.size <= pos) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { chunk: chunks.length - 1, index: chunks[chunks.length - 1]!.length };
    const chunk = chunks[lo]!;
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const r = chunk[mid]!;
      if (r.start + r.size <= pos) a = mid + 1;
      else b = mid;
    }
    return { chunk: lo, index: a };
  }

  /** The range at the cursor, or undefined past the end. */
  at(cursor: RangeCursor): FlatRange | undefined {
    this.#normalize(cursor);
    return this.#chunks[cursor.chunk]?.[cursor.index];
  }

  next(cursor: RangeCursor): void {
    cursor.index++;
  }

  /** Inserts before the cursor; the cursor then points at the same range as before. */
  insert(cursor: RangeCursor, range: FlatRange): void {
    this.#normalize(cursor);
    const chunks = this.#chunks;
    let c = cursor.chunk;
    if (c === chunks.length) c = chunks.length - 1;
    const chunk = chunks[c]!;
    const index = c === cursor.chunk ? cursor.index : chunk.length;
    chunk.splice(index, 0, range);
    cursor.chunk = c;
    cursor.index = index + 1;
    if (chunk.length > this.#maxChunk) {
      const half = chunk.length >>> 1;
      chunks.splice(c + 1, 0, chunk.splice(half));
      if (cursor.index >= half) {
        cursor.chunk = c + 1;
        cursor.index -= half;
      }
    }
  }

  toArray(): FlatRange[] {
    return this.#chunks.flat();
  }

  /** A cursor at the end of a chunk means the start of the next one. */
  #normalize(cursor: RangeCursor): void {
    const chunks = this.#chunks;
    while (cursor.chunk < chunks.length - 1 && cursor.index >= chunks[cursor.chunk]!.length) {
      cursor.chunk++;
      cursor.index = 0;
    }
  }
}

export interface RangeCursor {
  chunk: number;
  index: number;
}
