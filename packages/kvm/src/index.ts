export {
  attachKvm,
  attachKvmByName,
  type CoalescedMmioSource,
  type KvmAttachment,
  type KvmHostSystem,
} from "./attach.js";
export * from "./backend.js";
export { type KvmCapabilities, readCapabilities } from "./capabilities.js";
export { KvmCoalescedPioListener } from "./coalesced.js";
export type { DirtyBitmapSink } from "./dirty-pages.js";
export { type DirtyRingMarks, DirtyRingReaper } from "./dirty-ring-reaper.js";
export * from "./errors.js";
export { KvmAggregateError } from "./failures.js";
export * from "./interrupts.js";
export { KvmIoListener } from "./io-listener.js";
export { EdgeIrqfdLine, GsiIrqLine, type IrqLine, type ReadableNotifier, ResampleIrqfdLine } from "./irq-line.js";
export {
  type DirtyLogMaskSource,
  KvmMemoryListener,
  type KvmMemoryListenerOptions,
  type KvmOutOfSync,
  type KvmSlot,
} from "./memory-listener.js";
export {
  type ExitAction,
  type ExitHook,
  type GuestBus,
  type RunnableVcpu,
  type RunResult,
  type RunVcpuOptions,
  runVcpu,
  type StopReason,
} from "./run-vcpu.js";
export type { KvmVcpu } from "./vcpu.js";
export type { MsrExitReason, SystemEventType, VcpuExit, VcpuExitReason } from "./vcpu-exit.js";
export * from "./vcpu-state.js";
export type { KvmVm } from "./vm.js";
