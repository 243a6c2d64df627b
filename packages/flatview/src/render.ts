import { type MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { canMerge, type FlatRange } from "./flat-range.js";
import { FlatView } from "./flatview.js";
import { getFlatViewRoot } from "./flatview-root.js";
import { RangeList } from "./range-list.js";
import type { AddrWindow } from "./region-windows.js";
import { simplify } from "./simplify.js";

export interface RenderOptions {
  /**
   * The dirty-log clients of a terminating region at render time (QEMU's
   * `memory_region_get_dirty_log_mask`); defaults to the region's own VGA bit. A
   * system adds MIGRATION while global tracking is on and CODE under TCG.
   */
  readonly dirtyLogMask?: (mr: MemoryRegion) => number;
}

const ownMask = (mr: MemoryRegion): number => mr.dirtyLogMask;

/**
 * QEMU's `generate_memory_topology`: resolve the view root of an address-space root
 * and render it from base 0 (so the resolved root's own `addr` shifts the view) over
 * [0, 2^64), then merge adjacent ranges.
 */
export function renderFlatView(asRoot: MemoryRegion | null, options: RenderOptions = {}): FlatView {
  const root = getFlatViewRoot(asRoot);
  const ranges = new RangeList();
  if (root !== null) {
    renderRegion(ranges, root, 0n, 0n, SIZE_2_64, false, false, options.dirtyLogMask ?? ownMask);
  }
  return new FlatView(root, simplify(ranges.toArray()));
}

/**
 * QEMU's `render_memory_region`: depth first in list order, children before the
 * region's own content, and content only fills what is still free, so whatever
 * is already in the view wins. `base` may go negative or past 2^64 through alias offsets.
 */
function renderRegion(
  view: RangeList,
  mr: MemoryRegion,
  baseIn: bigint,
  clipStartIn: bigint,
  clipEndIn: bigint,
  readonlyIn: boolean,
  nonvolatileIn: boolean,
  dirtyLogMask: (mr: MemoryRegion) => number,
): void {
  if (!mr.enabled) return;
  let base = baseIn + mr.addr;
  const readonly = readonlyIn || mr.readonly;
  const nonvolatile = nonvolatileIn || mr.nonvolatile;
  const winEnd = base + mr.size;
  // addrrange_intersects: one range contains the start of the other (empty ranges contain nothing).
  const intersects = (base >= clipStartIn && base < clipEndIn) || (clipStartIn >= base && clipStartIn < winEnd);
  if (!intersects) return;
  const clipStart = base > clipStartIn ? base : clipStartIn;
  const clipEnd = winEnd < clipEndIn ? winEnd : clipEndIn;

  if (mr.alias !== null) {
    base -= mr.alias.addr + mr.aliasOffset;
    renderRegion(view, mr.alias, base, clipStart, clipEnd, readonly, nonvolatile, dirtyLogMask);
    return;
  }
  for (const child of mr.subregions) {
    renderRegion(view, child, base, clipStart, clipEnd, readonly, nonvolatile, dirtyLogMask);
  }
  if (!mr.terminates) return;

  let offset = clipStart - base;
  let pos = clipStart;
  let remain = clipEnd - clipStart;
  const fill = (start: bigint, size: bigint): FlatRange => ({
    mr,
    start,
    size,
    offsetInRegion: BigInt.asUintN(64, offset),
    dirtyLogMask: dirtyLogMask(mr),
    romdMode: mr.romdMode,
    readonly,
    nonvolatile,
  });
  const cursor = view.seek(pos);
  for (let r = view.at(cursor); r !== undefined && remain > 0n; view.next(cursor), r = view.at(cursor)) {
    if (pos < r.start) {
      const gap = r.start - pos < remain ? r.start - pos : remain;
      view.insert(cursor, fill(pos, gap));
      pos += gap;
      offset += gap;
      remain -= gap;
    }
    const rEnd = r.start + r.size;
    const limit = pos + remain < rEnd ? pos + remain : rEnd;
    const hidden = limit - pos;
    pos += hidden;
    offset += hidden;
    remain -= hidden;
  }
  if (remain > 0n) view.insert(cursor, fill(pos, remain));
}

/**
 * The view `old.root` renders now, given that nothing changed outside `windows`
 * (sorted, disjoint; see {@link regionWindows}): only the windows are rendered again
 * and spliced into the old ranges, which outside them are reused as they are. Equal to
 * `renderFlatView` of the same root because a FlatView is a function of what serves
 * each address: ranges cut at a window edge merge back in `simplify` when they continue.
 */
export function rerenderFlatView(old: FlatView, windows: readonly AddrWindow[], options: RenderOptions = {}): FlatView {
  const root = old.root;
  if (root === null || windows.length === 0) return old;
  const mask = options.dirtyLogMask ?? ownMask;
  const ranges = old.ranges;
  const out: FlatRange[] = [];
  // Untouched old ranges are copied as they are; merging is needed only where new
  // pieces meet old ones, so only those junction ranges go through `pushMerged`.
  let i = 0; // the next old range not yet copied or skipped
  let rest: FlatRange | undefined; // what is left of an old range cut at the previous window's end
  const cutAt = (r: FlatRange, b: bigint): FlatRange => {
    const cut = b - r.start;
    return { ...r, start: b, size: r.size - cut, offsetInRegion: BigInt.asUintN(64, r.offsetInRegion + cut) };
  };
  for (const { start: a, end: b } of windows) {
    if (rest !== undefined && rest.start + rest.size <= a) {
      pushMerged(out, rest);
      rest = undefined;
    }
    let cur = rest;
    if (cur === undefined) {
      const first = firstEndingAfter(ranges, a, i);
      if (i < first) pushMerged(out, ranges[i]!);
      for (let k = i + 1; k < first; k++) out.push(ranges[k]!);
      i = first;
      cur = ranges[i];
    }
    if (cur !== undefined && cur.start < a) pushMerged(out, { ...cur, size: a - cur.start });
    const fresh = new RangeList();
    renderRegion(fresh, root, 0n, a, b, false, false, mask);
    for (const r of fresh.toArray()) pushMerged(out, r);
    if (rest !== undefined) rest = rest.start + rest.size > b ? cutAt(rest, b) : undefined;
    if (rest === undefined) {
      i = firstEndingAfter(ranges, b, i);
      const straddling = ranges[i];
      if (straddling !== undefined && straddling.start < b) {
        rest = cutAt(straddling, b);
        i++;
      }
    }
  }
  if (rest !== undefined) pushMerged(out, rest);
  if (i < ranges.length) pushMerged(out, ranges[i]!);
  for (let k = i + 1; k < ranges.length; k++) out.push(ranges[k]!);
  return new FlatView(root, out);
}

/** Appends `r`, merged into the last range when QEMU's `can_merge` allows. */
function pushMerged(out: FlatRange[], r: FlatRange): void {
  const last = out[out.length - 1];
  if (last !== undefined && canMerge(last, r)) out[out.length - 1] = { ...last, size: last.size + r.size };
  else out.push(r);
}

/** Index (from `from` on) of the first range that ends after `pos`, by binary search. */
function firstEndingAfter(ranges: readonly FlatRange[], pos: bigint, from: number): number {
  let lo = from;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.start < pos) lo = mid + 1;
    else hi = mid;
  }
  // lo: first range starting at or after pos; the one before may still reach past pos.
  if (lo > from) {
    const prev = ranges[lo - 1]!;
    if (prev.start + prev.size > pos) return lo - 1;
  }
  return lo;
}
