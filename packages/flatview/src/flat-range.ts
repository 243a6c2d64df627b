import { type MemoryRegion, wrap64 } from "@memtopo/region-tree";

/**
 * One piece of a FlatView: addresses [start, start + size) of the address space are
 * served by the terminating region `mr` from `offsetInRegion` on. `start` and `size`
 * are exact (QEMU's Int128) and never reach past 2^64.
 */
export interface FlatRange {
  readonly mr: MemoryRegion;
  readonly start: bigint;
  readonly size: bigint;
  readonly offsetInRegion: bigint;
  /** Dirty-log clients of `mr` when the view was rendered. */
  readonly dirtyLogMask: number;
  /** `mr`'s own romd mode (true for everything but a ROM device switched off). */
  readonly romdMode: boolean;
  /** OR of `readonly` over every region on the render path. */
  readonly readonly: boolean;
  /** OR of `nonvolatile` over every region on the render path. */
  readonly nonvolatile: boolean;
}

/**
 * QEMU's `flatrange_equal`: the dirty-log mask is deliberately not compared, so a
 * logging change on an otherwise identical range is a `region_nop` plus `log_start`/`log_stop`.
 */
export function flatRangeEqual(a: FlatRange, b: FlatRange): boolean {
  return (
    a.mr === b.mr &&
    a.start === b.start &&
    a.size === b.size &&
    a.offsetInRegion === b.offsetInRegion &&
    a.romdMode === b.romdMode &&
    a.readonly === b.readonly &&
    a.nonvolatile === b.nonvolatile
  );
}

/** QEMU's `can_merge`: r2 continues r1 in the same region with the same attributes. */
export function canMerge(r1: FlatRange, r2: FlatRange): boolean {
  return (
    r1.start + r1.size === r2.start &&
    r1.mr === r2.mr &&
    wrap64(r1.offsetInRegion + r1.size) === r2.offsetInRegion &&
    r1.dirtyLogMask === r2.dirtyLogMask &&
    r1.romdMode === r2.romdMode &&
    r1.readonly === r2.readonly &&
    r1.nonvolatile === r2.nonvolatile
  );
}
