import { BIG_EXACT_LIMIT, bigFromSafeInteger, EXACT_LIMIT, type MemoryRegion, toDouble } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { pushMerged } from "./simplify.js";

/** A window rendering into more pieces than this goes to the bigint render, whose chunked list inserts in O(log n). */
const MAX_PIECES = 256;
const READONLY = 1;
const NONVOLATILE = 2;

/**
 * The scratch of {@link renderWindowExact}: the path of regions being rendered and the pieces
 * rendered so far, as columns of numbers, so that a window render allocates nothing but the
 * FlatRanges it returns. One per table (see FlatViewTable); it holds nothing between calls.
 */
export class ExactRenderScratch {
  // The path: one entry per region whose subregions are being rendered.
  readonly mr: (MemoryRegion | null)[] = [];
  readonly base: number[] = [];
  readonly clipStart: number[] = [];
  readonly clipEnd: number[] = [];
  /** `clipEnd - base` when exact, else Infinity (no child is skipped unvisited). */
  readonly localEnd: number[] = [];
  readonly flags: number[] = [];
  readonly next: number[] = [];
  // The pieces, sorted and disjoint: [start, end) served by `pieceMr` from `offset`.
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly offset: number[] = [];
  readonly pieceMr: (MemoryRegion | null)[] = [];
  readonly pieceFlags: number[] = [];
  /** How many path entries and pieces are live. */
  depth = 0;
  pieces = 0;
  /** The deepest path this render reached: entries below it are cleared at its end. */
  deepest = 0;
}

const ENTERED = 0;
const OUTSIDE = 1;
/** A step left the range where doubles are exact: the caller renders with bigints instead. */
const INEXACT = 2;

/**
 * {@link renderWindow} in doubles, merged and appended to `out` with {@link pushMerged}: QEMU's
 * `render_memory_region` clipped to [start, end), for a window below 2^53 (`end` at most 2^53).
 * Every address, base, clip and offset it computes is an integer of magnitude below 2^53, hence
 * exact; a sum that would leave that range makes it give up (false, `out` untouched) so that the
 * caller renders the window with bigints. A region's size at or above 2^53 is taken as reaching
 * past the window when its base is not negative, which is then exact too. The pieces are merged
 * as `flatview_simplify` would before any FlatRange is made, so a run of 13 PAM segments mapping
 * RAM in order costs one object.
 */
export function renderWindowExact(
  s: ExactRenderScratch,
  root: MemoryRegion,
  start: number,
  end: number,
  dirtyLogMask: (mr: MemoryRegion) => number,
  out: FlatRange[],
): boolean {
  s.pieces = 0;
  s.depth = 0;
  s.deepest = 0;
  const done = render(s, root, start, end);
  if (done) emit(s, dirtyLogMask, out);
  // The scratch holds no region between renders.
  for (let k = 0; k < s.deepest; k++) s.mr[k] = null;
  for (let k = 0; k < s.pieces; k++) s.pieceMr[k] = null;
  return done;
}

function render(s: ExactRenderScratch, root: MemoryRegion, start: number, end: number): boolean {
  const first = enter(s, root, 0, start, end, 0);
  if (first === INEXACT) return false;
  if (first === OUTSIDE) return true;
  // Content only fills what is still free: once the root's whole clip is filled, nothing left can show.
  const whole = s.clipEnd[0]! - s.clipStart[0]!;
  let filled = 0;
  while (s.depth > 0) {
    const d = s.depth - 1;
    const mr = s.mr[d] as MemoryRegion;
    const children = mr.subregions;
    const i = s.next[d]!;
    if (i < children.length) {
      s.next[d] = i + 1;
      const child = children[i]!;
      // A disabled child shows nothing (most PAM aliases); monotonic rounding: a rounded address at or
      // past an exact local end is past it.
      if (!child.enabled || toDouble(child.addr) >= s.localEnd[d]!) continue;
      const entered = enter(s, child, s.base[d]!, s.clipStart[d]!, s.clipEnd[d]!, s.flags[d]!);
      if (entered === INEXACT) return false;
      continue;
    }
    s.depth = d;
    if (mr.terminates) {
      const added = fillFree(s, d);
      if (added < 0) return false;
      filled += added;
      if (filled === whole) break;
    }
  }
  return true;
}

/**
 * `mr`, placed where its parent's content starts at `parentBase` (exact) and clipped to
 * [clipStart, clipEnd): follows aliases to the region with the content and pushes its frame.
 */
function enter(
  s: ExactRenderScratch,
  mr: MemoryRegion,
  parentBase: number,
  clipStartIn: number,
  clipEndIn: number,
  flagsIn: number,
): number {
  let region = mr;
  let outer = parentBase;
  let clipStart = clipStartIn;
  let clipEnd = clipEndIn;
  let flags = flagsIn;
  for (;;) {
    if (!region.enabled) return OUTSIDE;
    const addrBig = region.addr;
    if (addrBig >= BIG_EXACT_LIMIT) {
      // Starts at or past 2^53 when the parent's base is not negative: past every clip.
      return outer >= 0 ? OUTSIDE : INEXACT;
    }
    const base = outer + toDouble(addrBig);
    // Above 2^53 (exact operands round monotonically): past the clip; below -2^53 it would be inexact.
    if (base >= EXACT_LIMIT) return OUTSIDE;
    if (base <= -EXACT_LIMIT) return INEXACT;
    const sizeBig = region.size;
    let winEnd: number;
    if (sizeBig < BIG_EXACT_LIMIT) winEnd = base + toDouble(sizeBig);
    else if (base >= 0) winEnd = Number.POSITIVE_INFINITY;
    else return INEXACT;
    // winEnd is compared and clamped only: at or above 2^53 it lies past every clip, rounded or not.
    if (region.readonly) flags |= READONLY;
    if (region.nonvolatile) flags |= NONVOLATILE;
    const intersects = (base >= clipStart && base < clipEnd) || (clipStart >= base && clipStart < winEnd);
    if (!intersects) return OUTSIDE;
    if (base > clipStart) clipStart = base;
    if (winEnd < clipEnd) clipEnd = winEnd;
    const alias = region.alias;
    if (alias === null) {
      const d = s.depth++;
      if (s.depth > s.deepest) s.deepest = s.depth;
      s.mr[d] = region;
      s.base[d] = base;
      s.clipStart[d] = clipStart;
      s.clipEnd[d] = clipEnd;
      const localEnd = clipEnd - base;
      s.localEnd[d] = localEnd < EXACT_LIMIT ? localEnd : Number.POSITIVE_INFINITY;
      s.flags[d] = flags;
      s.next[d] = 0;
      return ENTERED;
    }
    const targetAddr = alias.addr;
    const aliasOffset = region.aliasOffset;
    if (targetAddr >= BIG_EXACT_LIMIT || aliasOffset >= BIG_EXACT_LIMIT) return INEXACT;
    // The sum too must stay below 2^53 (a target near 2^53 and an odd offset would round).
    const shift = toDouble(targetAddr) + toDouble(aliasOffset);
    if (shift >= EXACT_LIMIT) return INEXACT;
    outer = base - shift;
    if (outer <= -EXACT_LIMIT || outer >= EXACT_LIMIT) return INEXACT;
    region = alias;
  }
}

/**
 * The terminating region of frame `d` over whatever its clip still leaves free: new pieces in the
 * gaps between those already there. Returns the bytes filled, or -1 when it gives up (an offset
 * not exact, too many pieces).
 */
function fillFree(s: ExactRenderScratch, d: number): number {
  const base = s.base[d]!;
  let pos = s.clipStart[d]!;
  const clipEnd = s.clipEnd[d]!;
  // clipStart >= base, and both exact: the offset is exact when below 2^53.
  if (clipEnd - base >= EXACT_LIMIT) return -1;
  const starts = s.start;
  const ends = s.end;
  // The first piece ending after pos.
  let lo = 0;
  let hi = s.pieces;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid]! <= pos) lo = mid + 1;
    else hi = mid;
  }
  let added = 0;
  let i = lo;
  while (pos < clipEnd) {
    const nextStart = i < s.pieces ? starts[i]! : clipEnd;
    if (pos < nextStart) {
      const gapEnd = nextStart < clipEnd ? nextStart : clipEnd;
      if (!insertPiece(s, i, pos, gapEnd, pos - base, d)) return -1;
      added += gapEnd - pos;
      i++;
      pos = gapEnd;
      continue;
    }
    // Hidden by a piece already there.
    pos = ends[i]!;
    i++;
  }
  return added;
}

function insertPiece(
  s: ExactRenderScratch,
  at: number,
  start: number,
  end: number,
  offset: number,
  d: number,
): boolean {
  if (s.pieces >= MAX_PIECES) return false;
  const n = s.pieces++;
  if (at === n) {
    s.start[n] = start;
    s.end[n] = end;
    s.offset[n] = offset;
    s.pieceMr[n] = s.mr[d]!;
    s.pieceFlags[n] = s.flags[d]!;
    return true;
  }
  // Shifted by hand: a splice would also move the stale entries past `pieces` and grow the columns.
  for (let k = n; k > at; k--) {
    s.start[k] = s.start[k - 1]!;
    s.end[k] = s.end[k - 1]!;
    s.offset[k] = s.offset[k - 1]!;
    s.pieceMr[k] = s.pieceMr[k - 1]!;
    s.pieceFlags[k] = s.pieceFlags[k - 1]!;
  }
  s.start[at] = start;
  s.end[at] = end;
  s.offset[at] = offset;
  s.pieceMr[at] = s.mr[d]!;
  s.pieceFlags[at] = s.flags[d]!;
  return true;
}

/**
 * The pieces as FlatRanges, each run that `can_merge` joins made into one object (the pieces are
 * contiguous only where nothing lies between them; offsets are below 2^53, so no wrap), appended to
 * `out` with {@link pushMerged} so that the first one still merges with what `out` ends with.
 */
function emit(s: ExactRenderScratch, dirtyLogMask: (mr: MemoryRegion) => number, out: FlatRange[]): void {
  let i = 0;
  while (i < s.pieces) {
    const mr = s.pieceMr[i] as MemoryRegion;
    const flags = s.pieceFlags[i]!;
    const mask = dirtyLogMask(mr);
    const start = s.start[i]!;
    const offset = s.offset[i]!;
    let end = s.end[i]!;
    let j = i + 1;
    while (
      j < s.pieces &&
      s.pieceMr[j] === mr &&
      s.start[j] === end &&
      s.offset[j] === offset + (end - start) &&
      s.pieceFlags[j] === flags
    ) {
      end = s.end[j]!;
      j++;
    }
    pushMerged(out, {
      mr,
      start: bigFromSafeInteger(start),
      size: bigFromSafeInteger(end - start),
      offsetInRegion: bigFromSafeInteger(offset),
      dirtyLogMask: mask,
      romdMode: mr.romdMode,
      readonly: (flags & READONLY) !== 0,
      nonvolatile: (flags & NONVOLATILE) !== 0,
    });
    i = j;
  }
}
