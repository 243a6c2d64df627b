// The run loop and the exit union are backend-neutral: they live in @memtopo/kvm.
export {
  type ExitAction,
  type ExitHook,
  type GuestBus,
  type RunnableVcpu,
  type RunResult,
  type RunVcpuOptions,
  runVcpu,
  type StopReason,
  type VcpuExit,
} from "@memtopo/kvm";
export type {
  BindingLoadFailure,
  NativeBinding,
  NativeLayout,
  NativeRamBlock,
  NativeVcpu,
  NativeVm,
  RegName,
  SegmentName,
} from "./binding.js";
export { enterRealMode } from "./boot.js";
export { EventFdNotifier } from "./event-notifier.js";
export { KvmRunDecoder } from "./exits.js";
export { kickVcpu } from "./kick.js";
export { type KickTimer, kickVcpuAfter } from "./kick-timer.js";
export type { MsrFilter, MsrFilterRange } from "./msr-exits.js";
export { NativeKvm, type NativeKvmOptions } from "./native-kvm.js";
export {
  DEFAULT_KVM_DEVICE,
  isAvailable,
  type ProbeFailureReason,
  type ProbeOptions,
  type ProbeResult,
  probe,
} from "./probe.js";
export { NativeRamAllocator, nativeRamAllocator } from "./ram.js";
export type { DTable, Regs, Segment, Sregs } from "./regs.js";
export {
  adoptVcpu,
  dropShare,
  type RamShareToken,
  sharedRamView,
  shareRam,
  type VcpuShareToken,
} from "./share.js";
export { Vcpu } from "./vcpu.js";
