import type { EventNotifier } from "./event-notifier.js";

/**
 * MemoryRegionIoeventfd: an eventfd that a write of `size` bytes (0: any size) at
 * `start` signals, optionally only when the written value equals `data`.
 * `start` is a region offset while the record lives on a region and an
 * address-space address once collected into an address space's list.
 */
export interface IoeventfdRecord {
  readonly start: bigint;
  readonly size: bigint;
  readonly matchData: boolean;
  readonly data: bigint;
  readonly notifier: EventNotifier;
}

/**
 * QEMU's "before" order: start, size, match_data (false first), data (only when
 * both match), notifier identity. Records tied on every key are neither before the other.
 */
export function ioeventfdBefore(a: IoeventfdRecord, b: IoeventfdRecord): boolean {
  if (a.start !== b.start) return a.start < b.start;
  if (a.size !== b.size) return a.size < b.size;
  if (a.matchData !== b.matchData) return !a.matchData;
  if (a.matchData && a.data !== b.data) return a.data < b.data;
  return a.notifier.id < b.notifier.id;
}

/**
 * QEMU's equality, which is not "neither before": a size 0 on either side matches
 * any record with the same start.
 */
export function ioeventfdEqual(a: IoeventfdRecord, b: IoeventfdRecord): boolean {
  if (a.start !== b.start) return false;
  if (a.size === 0n || b.size === 0n) return true;
  return (
    a.size === b.size &&
    a.matchData === b.matchData &&
    (!a.matchData || a.data === b.data) &&
    a.notifier.id === b.notifier.id
  );
}
