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

  /** The range that holds `addr`, or undefined for an unassigned address (binary search). */
  lookup(addr: bigint): FlatRange | undefined {
    const ranges = this.ranges;
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = ranges[mid]!;
      if (addr < r.start) hi = mid;
      else if (addr >= r.start + r.size) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}
