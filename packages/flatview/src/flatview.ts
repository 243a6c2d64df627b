import { EXACT_LIMIT, type MemoryRegion, toDouble, wrap64 } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { RangeChunks } from "./range-chunks.js";
import { RangeIndex } from "./range-index.js";

/**
 * A rendered address space: sorted, non-overlapping, merged FlatRanges. Immutable;
 * a topology commit makes new views. `root` is the resolved view root (null for the
 * empty view, which QEMU prints as `Root memory region: (none)`).
 *
 * The ranges are held as a list of chunks ({@link RangeChunks}) that a view re-rendered
 * in windows shares with the view it came from, so a commit does not copy the whole
 * view; `ranges` is the one array of them, made the first time it is asked for.
 */
export class FlatView {
  readonly root: MemoryRegion | null;
  #ranges: readonly FlatRange[] | null;
  #chunks: RangeChunks | null;

  constructor(root: MemoryRegion | null, ranges: readonly FlatRange[] | RangeChunks) {
    this.root = root;
    if (ranges instanceof RangeChunks) {
      this.#chunks = ranges;
      this.#ranges = null;
    } else {
      this.#chunks = null;
      this.#ranges = ranges;
    }
  }

  /** The ranges in address order (one array, made once per view when it is held in chunks). */
  get ranges(): readonly FlatRange[] {
    this.#ranges ??= this.#chunks!.flatten();
    return this.#ranges;
  }

  /** How many ranges the view has. */
  get length(): number {
    return this.#ranges !== null ? this.#ranges.length : this.#chunks!.length;
  }

  /** The range at position `i` in address order, without making {@link ranges}. */
  at(i: number): FlatRange | undefined {
    return this.#ranges !== null ? this.#ranges[i] : this.#chunks!.at(i);
  }

  /** The ranges at positions [from, to), without making {@link ranges}. */
  slice(from: number, to: number): FlatRange[] {
    return this.#ranges !== null ? this.#ranges.slice(from, to) : this.#chunks!.slice(from, to);
  }

  /** The chunked list of the ranges, made from {@link ranges} the first time a re-render needs it. */
  get chunks(): RangeChunks {
    this.#chunks ??= RangeChunks.of(this.#ranges!);
    return this.#chunks;
  }

  /** Made once the view has been looked up often enough to pay for it (see #lookupCold). */
  #index: RangeIndex | null = null;
  /** Lookups answered without the index so far. */
  #coldLookups = 0;
  /** The index of the last range found: accesses cluster, as QEMU's MRU section exploits. */
  #mru = 0;
  /** The last range found before the index exists. */
  #last: FlatRange | null = null;

  /**
   * The range that holds `addr`, or undefined for an unassigned address or one outside
   * [0, 2^64). Once the view is hot and below 2^53 (every address a machine of today uses)
   * the search works on doubles: the last range found, then the index's radix tables.
   */
  lookup(addr: bigint): FlatRange | undefined {
    const index = this.#index;
    if (index === null) return this.#lookupCold(addr);
    if (wrap64(addr) !== addr) return undefined;
    const a = toDouble(addr);
    if (a >= EXACT_LIMIT) return this.#lookupExact(addr);
    const mru = this.#mru;
    if (a >= index.starts[mru]! && a < index.ends[mru]!) return this.#ranges![mru];
    if (a >= index.span) return undefined;
    const i = index.candidate(a);
    if (i < 0 || a >= index.ends[i]!) return undefined;
    this.#mru = i;
    return this.#ranges![i];
  }

  /**
   * Before the index exists. Building it costs about what a quarter of the range count
   * plus 512 exact lookups lose against the index (measured: small views gain little per
   * lookup, large ones much), so it is built after that many: a view that the next commit
   * replaces after a few accesses never pays for it, a hot one soon does.
   */
  #lookupCold(addr: bigint): FlatRange | undefined {
    if (++this.#coldLookups > (this.length >>> 2) + 512) {
      this.#index = new RangeIndex(this.ranges);
      return this.lookup(addr);
    }
    return this.#lookupExact(addr);
  }

  /** Exact bigint compares: the last range found, then a binary search on the range starts (in chunks, when held so). */
  #lookupExact(addr: bigint): FlatRange | undefined {
    const last = this.#last;
    if (last !== null && addr >= last.start && addr - last.start < last.size) return last;
    const ranges = this.#ranges;
    let r: FlatRange | undefined;
    if (ranges === null) {
      r = this.#chunks!.find(addr);
    } else {
      let lo = 0;
      let hi = ranges.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (addr < ranges[mid]!.start) hi = mid;
        else lo = mid + 1;
      }
      r = ranges[lo - 1];
      if (r !== undefined && addr - r.start >= r.size) r = undefined;
    }
    if (r !== undefined) this.#last = r;
    return r;
  }
}
