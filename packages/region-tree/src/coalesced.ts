/** A coalesced MMIO/PIO range of a region (QEMU's `CoalescedMemoryRange`), in region offsets. */
export interface CoalescedRange {
  readonly offset: bigint;
  readonly size: bigint;
}

/**
 * The part of a coalesced range that a piece of a view shows: a FlatRange at `start` of
 * `size` bytes shows the region from `offsetInRegion`. Null when they do not meet. This is
 * what `coalesced_io_add/del` receive, in address-space addresses.
 */
export function coalescedIntersection(
  range: CoalescedRange,
  start: bigint,
  size: bigint,
  offsetInRegion: bigint,
): { addr: bigint; len: bigint } | null {
  const from = range.offset + start - offsetInRegion;
  const to = from + range.size;
  const lo = from > start ? from : start;
  const hi = to < start + size ? to : start + size;
  return lo < hi ? { addr: lo, len: hi - lo } : null;
}
