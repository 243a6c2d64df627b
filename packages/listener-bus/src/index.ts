export { type ListenerCallback, ListenerCallbackError, ListenerCalls, type ListenerFailure } from "./calls.js";
export { notifyCoalescedRange } from "./coalesced-io.js";
export { ListenerRegistry, ListenerRegistryError, listenerLabel } from "./registry.js";
export { replayRegister, replayUnregister, type SpaceReplay } from "./replay.js";
export { type FlatRangeEquality, updateTopology, updateTopologyPass } from "./topology-pass.js";
export {
  type ListenedAddressSpace,
  type MemoryListener,
  type MemoryRegionSection,
  sectionFromFlatRange,
} from "./types.js";
