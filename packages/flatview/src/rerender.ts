import { type MemoryRegion, toDouble, wrap64 } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { FlatView } from "./flatview.js";
import type { AddrWindow } from "./region-windows.js";
import { type RenderOptions, renderWindow } from "./render.js";
import { ExactRenderScratch, renderWindowExact } from "./render-exact.js";
import { pushMerged } from "./simplify.js";

/**
 * One place where a re-rendered view differs from the view it came from: the old ranges
 * `[oldStart, oldEnd)` were replaced by `ranges`, which sit at `newStart` in the new view.
 * Everything between two splices is the very same range objects, in the same order.
 */
export interface RangeSplice {
  readonly oldStart: number;
  readonly oldEnd: number;
  readonly newStart: number;
  readonly ranges: readonly FlatRange[];
}

/** How a view was made from an earlier one: `from`'s ranges with `splices` (sorted, disjoint) applied. */
export interface ViewEdit {
  readonly from: FlatView;
  readonly splices: readonly RangeSplice[];
}

const TOP = 1n << 64n;
/** Windows ending at or below this render in doubles ({@link renderWindowExact}). */
const EXACT_END = 1n << 53n;
const ownMask = (mr: MemoryRegion): number => mr.dirtyLogMask;

/**
 * The view `old.root` renders now, given that nothing changed outside `windows` (sorted,
 * disjoint; see {@link regionWindows}). Equal to `renderFlatView` of the same root because a
 * FlatView is a function of what serves each address: ranges cut at a window edge merge back
 * when they continue.
 */
export function rerenderFlatView(old: FlatView, windows: readonly AddrWindow[], options: RenderOptions = {}): FlatView {
  return rerenderWithEdit(old, windows, options).view;
}

/**
 * {@link rerenderFlatView}, also saying what changed: only the old ranges around each window
 * are looked at (a binary search finds them), so the work is that of the windows, not of the
 * view; a commit's diff and ioeventfd collection can then look at the splices alone.
 *
 * A splice spans every old range that touches its windows, including one that ends exactly
 * where a window starts or starts exactly where one ends: a new piece can merge only with
 * those, and ranges of a view never merge with their neighbours (it is simplified), so the
 * splice's first and last pieces never merge across its edges.
 */
export function rerenderWithEdit(
  old: FlatView,
  windows: readonly AddrWindow[],
  options: RenderOptions = {},
  scratch: ExactRenderScratch = new ExactRenderScratch(),
): { view: FlatView; edit: ViewEdit } {
  const root = old.root;
  if (root === null || windows.length === 0) return { view: old, edit: { from: old, splices: [] } };
  const chunks = old.chunks;
  const splices: RangeSplice[] = [];
  // Where each splice's new ranges start: the old start shifted by what earlier splices added or removed.
  let shift = 0;
  let w = 0;
  while (w < windows.length) {
    const oldStart = chunks.firstEndingAtOrAfter(windows[w]!.start);
    let oldEnd = chunks.firstStartingAfter(windows[w]!.end);
    let last = w + 1;
    // Windows whose old ranges meet or overlap go into one splice.
    while (last < windows.length && chunks.firstEndingAtOrAfter(windows[last]!.start) <= oldEnd) {
      oldEnd = chunks.firstStartingAfter(windows[last]!.end);
      last++;
    }
    const replaced = chunks.slice(oldStart, oldEnd);
    const fresh = spliceRanges(root, replaced, windows, w, last, options, scratch);
    splices.push({ oldStart, oldEnd, newStart: oldStart + shift, ranges: fresh });
    shift += fresh.length - (oldEnd - oldStart);
    w = last;
  }
  // The new view shares every chunk of the old one that no splice touched: a commit copies what changed.
  const view = new FlatView(root, chunks.withSplices(splices));
  return { view, edit: { from: old, splices } };
}

/**
 * The new ranges for the old ranges `replaced` and `windows[first..last)`: old pieces
 * outside the windows (the same objects where a range lies wholly outside), fresh renders inside.
 */
function spliceRanges(
  root: MemoryRegion,
  replaced: readonly FlatRange[],
  windows: readonly AddrWindow[],
  first: number,
  last: number,
  options: RenderOptions,
  scratch: ExactRenderScratch,
): FlatRange[] {
  const mask = options.dirtyLogMask ?? ownMask;
  const out: FlatRange[] = [];
  let j = 0;
  let lo = 0n; // old pieces below this address were covered by a window
  for (let w = first; w < last; w++) {
    const { start: a, end: b } = windows[w]!;
    while (j < replaced.length) {
      const r = replaced[j]!;
      if (r.start >= a) break;
      const piece = clip(r, lo, a);
      if (piece !== null) pushMerged(out, piece);
      if (r.start + r.size > a) break; // it continues past the window: its rest comes after
      j++;
    }
    // Below 2^53 in doubles (no bigint per step, pieces merged before they become FlatRanges); else, or
    // when a step leaves the exact range, with bigints.
    if (b > EXACT_END || !renderWindowExact(scratch, root, toDouble(a), toDouble(b), mask, out)) {
      for (const r of renderWindow(root, a, b, mask)) pushMerged(out, r);
    }
    lo = b;
  }
  for (; j < replaced.length; j++) {
    const piece = clip(replaced[j]!, lo, TOP);
    if (piece !== null) pushMerged(out, piece);
  }
  return out;
}

/** The part of `r` inside [lo, hi): `r` itself when whole, null when empty. */
function clip(r: FlatRange, lo: bigint, hi: bigint): FlatRange | null {
  const end = r.start + r.size;
  const s = r.start > lo ? r.start : lo;
  const e = end < hi ? end : hi;
  if (s >= e) return null;
  if (s === r.start && e === end) return r;
  return { ...r, start: s, size: e - s, offsetInRegion: wrap64(r.offsetInRegion + (s - r.start)) };
}
