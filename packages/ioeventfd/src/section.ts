import type { FlatView } from "@memtopo/flatview";
import type { MemoryRegionSection } from "@memtopo/listener-bus";
import type { IoeventfdRecord } from "@memtopo/region-tree";

/**
 * The section of an ioeventfd callback: only the view, the address-space address and
 * the size are meaningful (QEMU leaves `mr` NULL and the region offset 0).
 */
export function sectionFromIoeventfd(record: IoeventfdRecord, fv: FlatView | null): MemoryRegionSection {
  return {
    mr: null,
    fv,
    offsetWithinRegion: 0n,
    offsetWithinAddressSpace: record.start,
    size: record.size,
    readonly: false,
    nonvolatile: false,
  };
}
