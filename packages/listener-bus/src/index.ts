export {
  type ListenedAddressSpace,
  type MemoryListener,
  type MemoryRegionSection,
  sectionFromFlatRange,
} from "./types.js";
