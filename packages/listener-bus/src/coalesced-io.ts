import type { FlatRange, FlatView } from "@memtopo/flatview";
import { type CoalescedRange, coalescedIntersection, type MemoryRegion } from "@memtopo/region-tree";
import type { ListenerCalls } from "./calls.js";
import { type MemoryListener, type MemoryRegionSection, sectionFromFlatRange } from "./types.js";

function notify(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  range: FlatRange,
  cr: CoalescedRange,
  section: MemoryRegionSection,
  add: boolean,
): void {
  const part = coalescedIntersection(cr, range.start, range.size, range.offsetInRegion);
  if (part === null) return;
  if (add) calls.forward(listeners, "coalescedIoAdd", section, part.addr, part.len);
  else calls.reverse(listeners, "coalescedIoDel", section, part.addr, part.len);
}

/**
 * `flat_range_coalesced_io_add/del`: for each coalesced range of the FlatRange's
 * region, in list order, the part the range shows goes to `coalesced_io_add` (Forward) or
 * `coalesced_io_del` (Reverse).
 */
export function coalescedIo(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  range: FlatRange,
  section: MemoryRegionSection,
  add: boolean,
): void {
  for (const cr of range.mr.coalesced) notify(calls, listeners, range, cr, section, add);
}

/**
 * `memory_region_update_coalesced_range` for one address space (`memory_region_add_coalescing`): a coalesced range
 * of `mr` was just added or removed, so every FlatRange of `mr` in the space's current
 * view tells its listeners about the part it shows, at once and outside any transaction.
 */
export function notifyCoalescedRange(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  view: FlatView,
  mr: MemoryRegion,
  cr: CoalescedRange,
  add: boolean,
): void {
  if (listeners.length === 0) return;
  for (const range of view.ranges) {
    if (range.mr === mr) notify(calls, listeners, range, cr, sectionFromFlatRange(range, view), add);
  }
}
