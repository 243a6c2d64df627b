import type { MemoryRegion } from "@memtopo/region-tree";

/**
 * Where a memory listener puts the dirty log it fetched (QEMU's
 * `cpu_physical_memory_set_dirty_lebitmap`): bit i of `bitmap` (64-bit little-endian words)
 * is the `pageSize`-byte page at `offset + i * pageSize` of `mr`'s RAM block. memtopo's
 * MemorySystem is one (its per-block dirty memory).
 */
export interface DirtyBitmapSink {
  setDirtyLebitmap(mr: MemoryRegion, offset: bigint, bitmap: Uint8Array, pages: number, pageSize: number): void;
}

/**
 * The sink of a listener whose system keeps no dirty memory: pages per region, as byte
 * offsets in its RAM block, kept until the owner takes them.
 */
export class DirtyPages implements DirtyBitmapSink {
  readonly #pages = new Map<MemoryRegion, Set<bigint>>();

  /** Pages dirtied in `mr` since the last call, sorted, and forgotten. */
  take(mr: MemoryRegion): bigint[] {
    const pages = this.#pages.get(mr);
    this.#pages.delete(mr);
    return pages === undefined ? [] : [...pages].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  setDirtyLebitmap(mr: MemoryRegion, offset: bigint, bitmap: Uint8Array, pages: number, pageSize: number): void {
    const set = this.#pages.get(mr) ?? new Set<bigint>();
    const size = BigInt(pageSize);
    for (let byte = 0; byte * 8 < pages; byte++) {
      const bits = bitmap[byte]!;
      if (bits === 0) continue;
      for (let bit = 0; bit < 8 && byte * 8 + bit < pages; bit++) {
        if ((bits & (1 << bit)) !== 0) set.add(offset + BigInt(byte * 8 + bit) * size);
      }
    }
    if (set.size > 0) this.#pages.set(mr, set);
  }
}
