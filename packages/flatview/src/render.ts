import { type MemoryRegion, SIZE_2_64, wrap64 } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { FlatView } from "./flatview.js";
import { getFlatViewRoot } from "./flatview-root.js";
import { BigIntInterner } from "./interner.js";
import { RangeList } from "./range-list.js";
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
  const interner = new BigIntInterner();
  if (root !== null) {
    renderRegion(ranges, root, 0n, 0n, SIZE_2_64, false, false, options.dirtyLogMask ?? ownMask, interner);
  }
  return new FlatView(root, simplify(ranges.toArray(), interner));
}

/** A region whose subregions are being rendered: where its content lies, and the next child to visit. */
interface RenderFrame {
  readonly mr: MemoryRegion;
  readonly base: bigint;
  readonly clipStart: bigint;
  readonly clipEnd: bigint;
  /** `clipEnd - base`: a child whose `addr` is at or past it lies after the clip and is skipped unvisited. */
  readonly localEnd: bigint;
  readonly readonly: boolean;
  readonly nonvolatile: boolean;
  next: number;
}

/**
 * QEMU's `render_memory_region`: depth first in list order, children before the
 * region's own content, and content only fills what is still free, so whatever
 * is already in the view wins. `base` may go negative or past 2^64 through alias offsets.
 * QEMU recurses once per level; here the depth is the caller's data, so the walk keeps
 * its own stack of the regions on the current path instead of spending the JS stack.
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
  interner: BigIntInterner | null,
): void {
  const first = enterRegion(mr, baseIn, clipStartIn, clipEndIn, readonlyIn, nonvolatileIn);
  if (first === null) return;
  // Content only fills what is still free: once the root's whole clip is filled, nothing left to
  // visit can show (a window re-render of 13 PAM segments then skips RAM and `pci` below them).
  const whole = first.clipEnd - first.clipStart;
  let filled = 0n;
  const path = [first];
  while (path.length > 0) {
    const frame = path[path.length - 1]!;
    const children = frame.mr.subregions;
    if (frame.next < children.length) {
      const child = children[frame.next++]!;
      // Most siblings of a window render lie after it (BARs, bridge windows): rejected without bigint arithmetic.
      if (child.addr >= frame.localEnd) continue;
      const entered = enterRegion(child, frame.base, frame.clipStart, frame.clipEnd, frame.readonly, frame.nonvolatile);
      if (entered !== null) path.push(entered);
      continue;
    }
    path.pop();
    if (frame.mr.terminates) {
      const added = fillFree(view, frame, dirtyLogMask, interner);
      if (added > 0n) {
        filled += added;
        if (filled === whole) return;
      }
    }
  }
}

/**
 * Where `mr`, placed in a parent whose content starts at `parentBase` and is clipped to
 * [clipStartIn, clipEndIn), renders: its frame, after following aliases to the region
 * that has the content (an alias shows its target at the target's own offset, minus
 * the alias offset); null when it is disabled or outside the clip.
 */
function enterRegion(
  mr: MemoryRegion,
  parentBase: bigint,
  clipStartIn: bigint,
  clipEndIn: bigint,
  readonlyIn: boolean,
  nonvolatileIn: boolean,
): RenderFrame | null {
  let region = mr;
  let outer = parentBase;
  let clipStart = clipStartIn;
  let clipEnd = clipEndIn;
  let readonly = readonlyIn;
  let nonvolatile = nonvolatileIn;
  for (;;) {
    if (!region.enabled) return null;
    const base = outer + region.addr;
    readonly ||= region.readonly;
    nonvolatile ||= region.nonvolatile;
    const winEnd = base + region.size;
    // addrrange_intersects: one range contains the start of the other (empty ranges contain nothing).
    const intersects = (base >= clipStart && base < clipEnd) || (clipStart >= base && clipStart < winEnd);
    if (!intersects) return null;
    if (base > clipStart) clipStart = base;
    if (winEnd < clipEnd) clipEnd = winEnd;
    if (region.alias === null) {
      return { mr: region, base, clipStart, clipEnd, localEnd: clipEnd - base, readonly, nonvolatile, next: 0 };
    }
    outer = base - (region.alias.addr + region.aliasOffset);
    region = region.alias;
  }
}

/**
 * A terminating region's content over whatever its clip still leaves free in the view; returns how
 * many bytes it filled.
 */
function fillFree(
  view: RangeList,
  frame: RenderFrame,
  dirtyLogMask: (mr: MemoryRegion) => number,
  interner: BigIntInterner | null,
): bigint {
  const { mr, base, clipStart, clipEnd, readonly, nonvolatile } = frame;
  let offset = clipStart - base;
  let pos = clipStart;
  let remain = clipEnd - clipStart;
  let added = 0n;
  const fill = (start: bigint, size: bigint): FlatRange => ({
    mr,
    start,
    size: interner === null ? size : interner.intern(size),
    offsetInRegion: interner === null ? wrap64(offset) : interner.intern(wrap64(offset)),
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
      added += gap;
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
  if (remain > 0n) {
    view.insert(cursor, fill(pos, remain));
    added += remain;
  }
  return added;
}

/**
 * The ranges that `root` renders inside [start, end) alone (QEMU's `render_memory_region`
 * clipped to that window), unmerged: what an incremental render splices into an old view.
 */
export function renderWindow(
  root: MemoryRegion,
  start: bigint,
  end: bigint,
  dirtyLogMask: (mr: MemoryRegion) => number = ownMask,
): FlatRange[] {
  const ranges = new RangeList();
  // A window's few ranges are not worth a cache: a whole view's are (renderFlatView).
  renderRegion(ranges, root, 0n, start, end, false, false, dirtyLogMask, null);
  return ranges.toArray();
}
