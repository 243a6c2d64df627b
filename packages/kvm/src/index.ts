export { attachKvm, attachKvmByName, type KvmAttachment, type KvmHostSystem } from "./attach.js";
export * from "./backend.js";
export * from "./errors.js";
export { KvmIoListener } from "./io-listener.js";
export {
  type DirtyLogMaskSource,
  KvmMemoryListener,
  type KvmMemoryListenerOptions,
  type KvmOutOfSync,
  type KvmSlot,
} from "./memory-listener.js";
