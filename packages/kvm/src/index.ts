export {
  attachKvm,
  attachKvmByName,
  type CoalescedMmioSource,
  type KvmAttachment,
  type KvmHostSystem,
} from "./attach.js";
export * from "./backend.js";
export { KvmCoalescedPioListener } from "./coalesced.js";
export * from "./errors.js";
export { KvmIoListener } from "./io-listener.js";
export {
  type DirtyLogMaskSource,
  KvmMemoryListener,
  type KvmMemoryListenerOptions,
  type KvmOutOfSync,
  type KvmSlot,
} from "./memory-listener.js";
