import type { MemoryRegion } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";

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

  /** Range starts and ends, made on the first lookup: a search then touches no range objects. */
  #starts: bigint[] | null = null;
  #ends: bigint[] = [];
  /** The index of the last range found: accesses cluster, as QEMU's MRU section exploits. */
  #mru = 0;

  /** The range that holds `addr`, or undefined for an unassigned address (MRU check, then binary search). */
  lookup(addr: bigint): FlatRange | undefined {
    let starts = this.#starts;
    if (starts === null) starts = this.#index();
    const ends = this.#ends;
    const mru = this.#mru;
    if (addr >= starts[mru]! && addr < ends[mru]!) return this.ranges[mru];
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (addr < starts[mid]!) hi = mid;
      else lo = mid + 1;
    }
    if (lo === 0 || addr >= ends[lo - 1]!) return undefined;
    this.#mru = lo - 1;
    return this.ranges[lo - 1];
  }

  #index(): bigint[] {
    const starts = this.ranges.map((r) => r.start);
    this.#ends = this.ranges.map((r) => r.start + r.size);
    this.#starts = starts;
    return starts;
  }
}
