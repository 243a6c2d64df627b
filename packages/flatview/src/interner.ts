import { low32 } from "@memtopo/region-tree";

/** 2^SLOT_BITS slots. */
const SLOT_BITS = 6;

/**
 * Shares equal bigints between the FlatRanges of one render: most ranges of a machine repeat a few
 * sizes and offset 0, and every bigint a render computes is an object of its own (24 bytes). A
 * direct-mapped cache on the low bits: a miss costs a compare and a store, never a hash.
 */
export class BigIntInterner {
  readonly #slots: bigint[] = new Array<bigint>(1 << SLOT_BITS).fill(-1n);

  /** `x` itself, or an earlier bigint of the same value. */
  intern(x: bigint): bigint {
    // Fibonacci hashing of the low word: sizes and offsets are aligned, so their low bits alone would collide.
    const k = Math.imul(low32(x), 0x9e3779b1) >>> (32 - SLOT_BITS);
    const seen = this.#slots[k]!;
    if (seen === x) return seen;
    this.#slots[k] = x;
    return x;
  }
}
