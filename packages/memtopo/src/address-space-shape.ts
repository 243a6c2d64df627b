import type { FlatView } from "@memtopo/flatview";
import type { MemoryRegion } from "@memtopo/region-tree";

/**
 * What an address space is to everything that reads one without owning it (the machine
 * file, the `info mtree` printers, the diff): QEMU's `AddressSpace` name, root and current
 * view. A MemorySystem's address spaces fit; so does any object a caller builds around
 * `renderFlatView`, as long as spaces whose roots resolve to the same view root share one
 * FlatView object (the flat printer groups by view identity).
 */
export interface AddressSpaceShape {
  readonly name: string;
  readonly root: MemoryRegion | null;
  readonly currentMap: FlatView;
}
