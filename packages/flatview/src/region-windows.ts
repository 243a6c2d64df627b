import { BIG_EXACT_LIMIT, type MemoryRegion, toDouble } from "@memtopo/region-tree";

/** An address-space interval [start, end). */
export interface AddrWindow {
  readonly start: bigint;
  readonly end: bigint;
}

const MAX_WINDOWS = 64;
const TOP = 1n << 64n;

/**
 * Where `mr`'s subtree can render in the views rendered from each of `viewRoots`: its
 * window reached through every path of containers and aliases up to that root, in
 * address-space coordinates (one walk serves all roots). A change to `mr` (its
 * placement, size, flags, subtree) can alter a view only inside these windows. It
 * over-approximates on purpose (disabled regions on the way are ignored), which costs
 * only re-rendering. Roots `mr` cannot reach get no entry. Returns null when the paths
 * are too many to be worth following (the caller then renders in full).
 *
 * `mayLead(x)` prunes the walk: it must be true for every region some view root reaches
 * downward (through subregions and alias targets); a region it rejects cannot have a root
 * above it. Without it every path is followed.
 *
 * `aliasesOf(x)` gives the aliases of `x` the walk may take (`x.aliasedBy` unless told). A
 * caller that knows which aliases some root reaches can hand only those, so that a region
 * aliased by hundreds of dead ends (the bus-master aliases of `system`) costs nothing.
 */
export function regionWindows(
  mr: MemoryRegion,
  viewRoots: ReadonlySet<MemoryRegion> | ReadonlyMap<MemoryRegion | null, unknown>,
  mayLead: (x: MemoryRegion) => boolean = () => true,
  aliasesOf: (x: MemoryRegion) => Iterable<MemoryRegion> = (x) => x.aliasedBy,
): Map<MemoryRegion, AddrWindow[]> | null {
  return seedWindows([{ x: mr, lo: 0n, hi: mr.size }], viewRoots, mayLead, aliasesOf);
}

/**
 * Part of a region's content, in its local coordinates ([0, x.size) is all of it), from
 * which {@link seedWindows} walks up. `hi` may pass `x.size`: the seed of a region that
 * shrank covers where its old size still showed through the aliases of it.
 */
export interface WindowSeed {
  readonly x: MemoryRegion;
  readonly lo: bigint;
  readonly hi: bigint;
}

/**
 * {@link regionWindows} of many seeds in one walk (a transaction's changed regions): the
 * windows of all of them, by view root, unsorted and possibly overlapping. Each seed has
 * the budget one region has there; null when one exceeds it.
 */
export function seedWindows(
  seeds: Iterable<WindowSeed>,
  viewRoots: ReadonlySet<MemoryRegion> | ReadonlyMap<MemoryRegion | null, unknown>,
  mayLead: (x: MemoryRegion) => boolean = () => true,
  aliasesOf: (x: MemoryRegion) => Iterable<MemoryRegion> = (x) => x.aliasedBy,
): Map<MemoryRegion, AddrWindow[]> | null {
  const found = new Map<MemoryRegion, AddrWindow[]>();
  // Local coordinates of x: its content occupies [0, x.size); entries are clipped to it.
  const stack: WindowSeed[] = [];
  for (const seed of seeds) {
    if (seed.lo < seed.hi) stack.push(seed);
    let steps = 0;
    let windows = 0;
    while (stack.length > 0) {
      if (++steps > MAX_WINDOWS * 16) return null;
      const { x, lo, hi } = stack.pop()!;
      if (viewRoots.has(x)) {
        const start = x.addr + lo;
        const end = x.addr + hi;
        if (start < TOP) {
          const list = found.get(x);
          const w = { start, end: end < TOP ? end : TOP };
          if (list === undefined) found.set(x, [w]);
          else list.push(w);
          if (++windows > MAX_WINDOWS) return null;
        }
        // Paths above a root belong to other views; they cannot lead back into this one (no cycles).
      }
      if (x.container !== null && mayLead(x.container)) pushClipped(stack, x.container, lo + x.addr, hi + x.addr);
      for (const a of aliasesOf(x)) {
        if (mayLead(a) && meets(lo, hi, a.aliasOffset, a.size)) {
          pushClipped(stack, a, lo - a.aliasOffset, hi - a.aliasOffset);
        }
      }
    }
  }
  return found;
}

/**
 * Whether [lo, hi) meets an alias window [offset, offset + size) of its target: compared in doubles
 * when every operand is below 2^53 (a sum at or past 2^53 then still compares right against an exact
 * `lo`), so that the many aliases a window does not reach (a BAR's walk passes the PAM aliases into
 * `pci`) cost no bigint.
 */
function meets(lo: bigint, hi: bigint, offset: bigint, size: bigint): boolean {
  if (lo < BIG_EXACT_LIMIT && hi < BIG_EXACT_LIMIT && offset < BIG_EXACT_LIMIT && size < BIG_EXACT_LIMIT) {
    const o = toDouble(offset);
    return toDouble(hi) > o && toDouble(lo) < o + toDouble(size);
  }
  return hi > offset && lo < offset + size;
}

/** Pushes the part of [rawLo, rawHi) that lies in `x`'s content, if any. */
function pushClipped(stack: WindowSeed[], x: MemoryRegion, rawLo: bigint, rawHi: bigint): void {
  const lo = rawLo > 0n ? rawLo : 0n;
  const hi = rawHi < x.size ? rawHi : x.size;
  if (lo < hi) stack.push({ x, lo, hi });
}

/** Sorted, disjoint, non-adjacent windows covering the same addresses. */
export function coalesce(windows: readonly AddrWindow[]): AddrWindow[] {
  // The usual commit has one window: nothing to sort or join.
  if (windows.length <= 1) return windows.slice();
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
