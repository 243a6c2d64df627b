import type { MemoryRegion } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { EXACT_LIMIT, RangeIndex, toDouble } from "./range-index.js";

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
    const a = toDouble(addr);
    if (a >= EXACT_LIMIT) return this.#lookupAbove53(addr);
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
