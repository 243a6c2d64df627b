import type { MemoryRegion } from "@memtopo/region-tree";

/** An address-space interval [start, end). */
export interface AddrWindow {
  readonly start: bigint;
  readonly end: bigint;
}

const MAX_WINDOWS = 64;
const TOP = 1n << 64n;

/**
 * Where `mr`'s subtree can render in the view rendered from `viewRoot`: its window
 * reached through every path of containers and aliases from the root, in address-space
 * coordinates. A change to `mr` (its placement, size, flags, subtree) can alter the
 * view only inside these windows. Over-approximates on purpose (disabled regions on
 * the way are ignored), which costs only re-rendering. Returns null when the paths are
 * too many to be worth following (the caller then renders the whole view).
 */
export function regionWindows(mr: MemoryRegion, viewRoot: MemoryRegion): AddrWindow[] | null {
  const found: AddrWindow[] = [];
  const stack: { x: MemoryRegion; lo: bigint; hi: bigint }[] = [{ x: mr, lo: 0n, hi: mr.size }];
  let steps = 0;
  while (stack.length > 0) {
    if (++steps > MAX_WINDOWS * 16) return null;
    const { x, lo: rawLo, hi: rawHi } = stack.pop()!;
    // Local coordinates of x: its content occupies [0, x.size).
    const lo = rawLo > 0n ? rawLo : 0n;
    const hi = rawHi < x.size ? rawHi : x.size;
    if (lo >= hi) continue;
    if (x === viewRoot) {
      const start = x.addr + lo;
      const end = x.addr + hi;
      if (start < TOP) found.push({ start, end: end < TOP ? end : TOP });
      if (found.length > MAX_WINDOWS) return null;
      continue;
    }
    if (x.container !== null) stack.push({ x: x.container, lo: lo + x.addr, hi: hi + x.addr });
    for (const a of x.aliasedBy) stack.push({ x: a, lo: lo - a.aliasOffset, hi: hi - a.aliasOffset });
  }
  return coalesce(found);
}

/** Sorted, disjoint, non-adjacent windows covering the same addresses. */
export function coalesce(windows: readonly AddrWindow[]): AddrWindow[] {
  const sorted = [...windows].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: AddrWindow[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && w.start <= last.end) {
      if (w.end > last.end) out[out.length - 1] = { start: last.start, end: w.end };
    } else {
      out.push(w);
    }
  }
  return out;
}
