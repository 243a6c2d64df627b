import { type MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";

/** What serves one address, computed without building any range list. */
export interface Served {
  mr: MemoryRegion;
  offset: bigint;
  readonly: boolean;
  nonvolatile: boolean;
}

/**
 * The per-address oracle: the first terminating region in depth-first list order
 * (children before their parent's own content) whose window, clipped by every
 * ancestor and alias window, holds the address. Independent of the renderer.
 */
export function serve(root: MemoryRegion | null, addr: bigint): Served | null {
  if (root === null) return null;
  return walk(root, 0n, addr, 0n, SIZE_2_64, false, false);
}

function walk(
  mr: MemoryRegion,
  parentBase: bigint,
  addr: bigint,
  clipStart: bigint,
  clipEnd: bigint,
  ro: boolean,
  nv: boolean,
): Served | null {
  if (!mr.enabled) return null;
  const base = parentBase + mr.addr;
  const start = base > clipStart ? base : clipStart;
  const end = base + mr.size < clipEnd ? base + mr.size : clipEnd;
  if (addr < start || addr >= end) return null;
  const r = ro || mr.readonly;
  const n = nv || mr.nonvolatile;
  if (mr.alias !== null) {
    return walk(mr.alias, base - mr.alias.addr - mr.aliasOffset, addr, start, end, r, n);
  }
  for (const child of mr.subregions) {
    const hit = walk(child, base, addr, start, end, r, n);
    if (hit !== null) return hit;
  }
  return mr.terminates ? { mr, offset: addr - base, readonly: r, nonvolatile: n } : null;
}
