import type { MemoryRegion } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { RangeIndex } from "./range-index.js";

/**
 * Scratch words for reading a bigint address as two 32-bit halves: a typed-array store
 * costs a fraction of `Number(bigint)`. Holds nothing between calls.
 */
const ADDRESS = new BigUint64Array(1);
const HALVES = new Uint32Array(ADDRESS.buffer);
const HIGH = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;
/** The high half of 2^53: an address whose high half is below it is an exact double. */
const EXACT_HIGH = 0x20_0000;

/**
 * A rendered address space: sorted, non-overlapping, merged FlatRanges. Immutable;
 * a topology commit makes new views. `root` is the resolved view root (null for the
 * empty view, which QEMU prints as `Root memory region: (none)`).
 */
export class FlatView {
  readonly root: MemoryRegion | null;
  readonly ranges: readonly FlatRange[];

  constructor(root: MemoryRegion | null, ranges: readonly FlatRange[]) {
    this.root = root;
    this.ranges = ranges;
  }

  /** Made on the first lookup: many views (every commit makes some) are never looked up. */
  #index: RangeIndex | null = null;
  /** The index of the last range found: accesses cluster, as QEMU's MRU section exploits. */
  #mru = 0;

  /**
   * The range that holds `addr`, or undefined for an unassigned address or one outside
   * [0, 2^64). Below 2^53 (every address a machine of today uses) the search works on
   * doubles: the last range found, then a radix table and a short binary search.
   */
  lookup(addr: bigint): FlatRange | undefined {
    const index = this.#index ?? this.#buildIndex();
    if (BigInt.asUintN(64, addr) !== addr) return undefined;
    ADDRESS[0] = addr;
    const high = HALVES[HIGH]!;
    if (high >= EXACT_HIGH) return this.#lookupAbove53(addr);
    const a = high * 0x1_0000_0000 + HALVES[LOW]!;
    const mru = this.#mru;
    if (a >= index.starts[mru]! && a < index.ends[mru]!) return this.ranges[mru];
    if (a >= index.span) return undefined;
    const i = index.candidate(a);
    if (i < 0 || a >= index.ends[i]!) return undefined;
    this.#mru = i;
    return this.ranges[i];
  }

  /** Addresses from 2^53 up, where doubles round: an exact binary search on the bigint edges. */
  #lookupAbove53(addr: bigint): FlatRange | undefined {
    const ranges = this.ranges;
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (addr < ranges[mid]!.start) hi = mid;
      else lo = mid + 1;
    }
    const r = ranges[lo - 1];
    if (r === undefined || addr >= r.start + r.size) return undefined;
    this.#mru = lo - 1;
    return r;
  }

  #buildIndex(): RangeIndex {
    this.#index = new RangeIndex(this.ranges);
    return this.#index;
  }
}
