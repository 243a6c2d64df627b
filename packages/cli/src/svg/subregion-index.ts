import type { MemoryRegion } from "@memtopo/region-tree";

/** Below this many subregions a scan is as cheap as the index. */
const SCAN_LIMIT = 16;

interface Entry {
  /** The list the entry was built from: a container's list is a new array after every change. */
  readonly list: readonly MemoryRegion[];
  /** List positions sorted by `addr`. */
  readonly order: Int32Array;
  readonly starts: readonly bigint[];
  /** The largest end (`addr + size`) among `order[0..i]`. */
  readonly maxEnds: readonly bigint[];
}

/**
 * The subregions of a container whose window holds an offset, found by a binary search over their
 * starts instead of a scan of the whole list: drawing a view asks this once per range, and a
 * container of n children scanned per range made a picture of n ranges cost n^2. Built per
 * container on first use, and again when its list changes.
 */
export class SubregionIndex {
  readonly #entries = new Map<MemoryRegion, Entry>();

  /** The subregions of `mr` with `addr <= offset < addr + size`, in list order. */
  at(mr: MemoryRegion, offset: bigint): readonly MemoryRegion[] {
    const list = mr.subregions;
    if (list.length <= SCAN_LIMIT) return list.filter((c) => offset >= c.addr && offset - c.addr < c.size);
    let entry = this.#entries.get(mr);
    if (entry === undefined || entry.list !== list) {
      entry = build(list);
      this.#entries.set(mr, entry);
    }
    const { order, starts, maxEnds } = entry;
    // The last start at or below offset; every holder lies at or before it.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    const positions: number[] = [];
    for (let i = lo - 1; i >= 0 && maxEnds[i]! > offset; i--) {
      const c = list[order[i]!]!;
      if (c.addr + c.size > offset) positions.push(order[i]!);
    }
    // Mostly one holder (a view's ranges are mostly one region each): no sort, no mapping closure.
    if (positions.length === 1) return [list[positions[0]!]!];
    positions.sort((a, b) => a - b);
    return positions.map((p) => list[p]!);
  }
}

function build(list: readonly MemoryRegion[]): Entry {
  const order = Int32Array.from(list.keys()).sort((a, b) => {
    const x = list[a]!.addr;
    const y = list[b]!.addr;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  const starts: bigint[] = [];
  const maxEnds: bigint[] = [];
  let maxEnd = -1n;
  for (const p of order) {
    const c = list[p]!;
    const end = c.addr + c.size;
    if (end > maxEnd) maxEnd = end;
    starts.push(c.addr);
    maxEnds.push(maxEnd);
  }
  return { list, order, starts, maxEnds };
}
