import { type FlatRange, type FlatView, flatRangeEqual, type ViewEdit } from "@memtopo/flatview";
import type { ListenerCalls } from "./calls.js";
import { coalescedIo } from "./coalesced-io.js";
import { type MemoryListener, sectionFromFlatRange } from "./types.js";

/** Which ranges count as "the same range" in a diff; QEMU's `flatrange_equal` by default. */
export type FlatRangeEquality = (a: FlatRange, b: FlatRange) => boolean;

/**
 * QEMU's `address_space_update_topology_pass`: one merge walk over the old and new ranges
 * (both sorted by start). The deletion pass (`adding` false) reports every old range that
 * has no equal new range with `region_del` (Reverse); the addition pass reports unchanged
 * ranges with `region_nop` (Forward) plus `log_start` (Forward) / `log_stop` (Reverse) for
 * mask bits gained / lost, and new ranges with `region_add` (Forward). A deleted range's
 * coalesced ranges go first (`coalesced_io_del`, Reverse), an added one's after it
 * (`coalesced_io_add`, Forward), as `flat_range_coalesced_io_add` does. Sections carry `sectionView`, the address space's
 * view before the commit.
 */
export function updateTopologyPass(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  oldRanges: readonly FlatRange[],
  newRanges: readonly FlatRange[],
  sectionView: FlatView | null,
  adding: boolean,
  equal: FlatRangeEquality = flatRangeEqual,
): void {
  let o = 0;
  let n = 0;
  while (o < oldRanges.length || n < newRanges.length) {
    const fo = oldRanges[o];
    const fn = newRanges[n];
    if (fo !== undefined && (fn === undefined || fo.start < fn.start || (fo.start === fn.start && !equal(fo, fn)))) {
      if (!adding) {
        const section = sectionFromFlatRange(fo, sectionView);
        coalescedIo(calls, listeners, fo, section, false);
        calls.reverse(listeners, "regionDel", section);
      }
      o++;
    } else if (fo !== undefined && fn !== undefined && equal(fo, fn)) {
      if (adding) {
        const section = sectionFromFlatRange(fn, sectionView);
        calls.forward(listeners, "regionNop", section);
        if ((fn.dirtyLogMask & ~fo.dirtyLogMask) !== 0) {
          calls.forward(listeners, "logStart", section, fo.dirtyLogMask, fn.dirtyLogMask);
        }
        if ((fo.dirtyLogMask & ~fn.dirtyLogMask) !== 0) {
          calls.reverse(listeners, "logStop", section, fo.dirtyLogMask, fn.dirtyLogMask);
        }
      }
      o++;
      n++;
    } else {
      if (adding) {
        const section = sectionFromFlatRange(fn!, sectionView);
        calls.forward(listeners, "regionAdd", section);
        coalescedIo(calls, listeners, fn!, section, true);
      }
      n++;
    }
  }
}

/**
 * The listener side of QEMU's `address_space_set_flatview`: nothing when the view object
 * did not change (only the permanent empty view survives a commit) or nobody listens;
 * otherwise the deletion pass, then the addition pass, over `old` (null: no ranges) and `next`.
 *
 * When no listener of the space has `regionNop`, ranges that both views share as the same
 * objects can only produce `region_nop`, so the passes skip them: the calls made are exactly
 * those of the full walk. With `edit` (how `next` was made from `old`) the passes walk its
 * splices alone, so a commit costs what changed, not the size of the view; without it, the
 * shared ranges at the start and the end are skipped.
 */
export function updateTopology(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  old: FlatView | null,
  next: FlatView,
  equal: FlatRangeEquality = flatRangeEqual,
  edit?: ViewEdit,
): void {
  if (old === next || listeners.length === 0) return;
  if (edit !== undefined && old !== null && edit.from === old && !listeners.some((l) => l.regionNop !== undefined)) {
    // Between splices both views hold the same objects in the same order, so a pass over each
    // splice alone meets the ranges the full walk would report, in the same order.
    for (const s of edit.splices) {
      updateTopologyPass(calls, listeners, old.slice(s.oldStart, s.oldEnd), s.ranges, old, false, equal);
    }
    for (const s of edit.splices) {
      updateTopologyPass(calls, listeners, old.slice(s.oldStart, s.oldEnd), s.ranges, old, true, equal);
    }
    return;
  }
  let oldRanges = old === null ? [] : old.ranges;
  let newRanges = next.ranges;
  if (!listeners.some((l) => l.regionNop !== undefined)) {
    let head = 0;
    const shortest = Math.min(oldRanges.length, newRanges.length);
    while (head < shortest && oldRanges[head] === newRanges[head]) head++;
    let tail = 0;
    while (
      tail < shortest - head &&
      oldRanges[oldRanges.length - 1 - tail] === newRanges[newRanges.length - 1 - tail]
    ) {
      tail++;
    }
    if (head > 0 || tail > 0) {
      oldRanges = oldRanges.slice(head, oldRanges.length - tail);
      newRanges = newRanges.slice(head, newRanges.length - tail);
    }
  }
  updateTopologyPass(calls, listeners, oldRanges, newRanges, old, false, equal);
  updateTopologyPass(calls, listeners, oldRanges, newRanges, old, true, equal);
}
