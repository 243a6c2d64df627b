import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RegName, SegmentName } from "@memtopo/kvm";
import type { NativeIrqLayout, NativeVmInterrupts } from "./interrupts/layout.js";
import type { NativeSystemFunctions, NativeVcpuState, VcpuStateLayout } from "./vcpu-state/layout.js";

/** Byte offsets and constants from <linux/kvm.h>, computed by the addon with offsetof. */
export interface NativeLayout {
  readonly run: Readonly<Record<RunField, number>>;
  readonly regs: Readonly<Record<RegName | "size", number>>;
  readonly segment: Readonly<Record<SegmentField | "size", number>>;
  readonly dtable: Readonly<Record<"base" | "limit", number>>;
  readonly sregs: Readonly<Record<SregField | "size", number>>;
  readonly exits: Readonly<Record<ExitName, number>>;
  /** `struct kvm_coalesced_mmio_ring` and its entries (`struct kvm_coalesced_mmio`). */
  readonly coalescedRing: Readonly<
    Record<"first" | "last" | "entries" | "entrySize" | "physAddr" | "len" | "pio" | "data" | "dataMax", number>
  >;
  /** The interrupt, PIT, routing and clock structs (native/irq-layout.cc). */
  readonly irq: NativeIrqLayout;
  /** The vCPU state structs (native/vcpu-state-layout.cc). */
  readonly vcpuState: VcpuStateLayout;
  readonly apiVersion: number;
}

export type RunField =
  | "immediateExit"
  | "exitReason"
  | "ioDirection"
  | "ioSize"
  | "ioPort"
  | "ioCount"
  | "ioDataOffset"
  | "mmioPhysAddr"
  | "mmioData"
  | "mmioLen"
  | "mmioIsWrite"
  | "hwExitReason"
  | "failEntryReason"
  | "failEntryCpu"
  | "internalSuberror"
  | "internalNdata"
  | "internalData"
  | "internalDataMax"
  | "requestInterruptWindow"
  | "readyForInterruptInjection"
  | "ifFlag"
  | "systemEventType"
  | "systemEventNdata"
  | "systemEventData"
  | "systemEventDataMax"
  | "debugException"
  | "debugPc"
  | "debugDr6"
  | "debugDr7"
  | "msrError"
  | "msrReason"
  | "msrIndex"
  | "msrData";

export { REG_NAMES, type RegName, SEGMENT_NAMES, type SegmentName } from "@memtopo/kvm";

export type SegmentField =
  | "base"
  | "limit"
  | "selector"
  | "type"
  | "present"
  | "dpl"
  | "db"
  | "s"
  | "l"
  | "g"
  | "avl"
  | "unusable";
export type SregField =
  | SegmentName
  | "gdt"
  | "idt"
  | "cr0"
  | "cr2"
  | "cr3"
  | "cr4"
  | "cr8"
  | "efer"
  | "apicBase"
  | "interruptBitmap";
export type ExitName =
  | "UNKNOWN"
  | "IO"
  | "HLT"
  | "MMIO"
  | "SHUTDOWN"
  | "FAIL_ENTRY"
  | "INTR"
  | "INTERNAL_ERROR"
  | "SYSTEM_EVENT"
  | "IRQ_WINDOW_OPEN"
  | "DEBUG"
  | "X86_RDMSR"
  | "X86_WRMSR"
  | "DIRTY_RING_FULL"
  | "SYSTEM_EVENT_SHUTDOWN"
  | "SYSTEM_EVENT_RESET"
  | "SYSTEM_EVENT_CRASH"
  | "SYSTEM_EVENT_WAKEUP"
  | "SYSTEM_EVENT_SUSPEND"
  | "SYSTEM_EVENT_SEV_TERM"
  | "MSR_EXIT_REASON_INVAL"
  | "MSR_EXIT_REASON_UNKNOWN"
  | "MSR_EXIT_REASON_FILTER"
  | "IO_IN"
  | "IO_OUT";

/** A guest RAM mapping owned by the addon (memfd + mmap, MAP_NORESERVE). */
export interface NativeRamBlock {
  /** The whole block; E_RAM_TOO_LARGE over 2^32 bytes. */
  buffer(): ArrayBuffer;
  /** Bytes [index * 2^30, min(size, index * 2^30 + 2^31)): windows overlap by 1 GiB. */
  window(index: number): ArrayBuffer;
  hostAddr(): bigint;
  mapLength(): bigint;
  /** Returns the host pages of [offset, +length) (page aligned, inside the mapping): they read as zeros after. */
  discard(offset: bigint, length: bigint): void;
  release(): void;
}

export interface NativeVm extends NativeVmInterrupts {
  checkExtension(cap: number): number;
  /** Makes the block RAM of this VM, and of no other (E_RAM_FOREIGN if another VM has it). */
  adoptRam(block: NativeRamBlock): void;
  setUserMemoryRegion(
    slot: number,
    flags: number,
    guestPhysAddr: bigint,
    memorySize: bigint,
    userspaceAddr: bigint,
  ): void;
  ioeventfd(addr: bigint, len: number, fd: number, flags: number, datamatch: bigint): void;
  registerCoalescedMmio(addr: bigint, size: number, pio: number): void;
  unregisterCoalescedMmio(addr: bigint, size: number, pio: number): void;
  getDirtyLog(slot: number): Uint8Array;
  clearDirtyLog(slot: number, firstPage: bigint, numPages: number, bitmap: Uint8Array): void;
  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with `flags` (ENABLE 1, INITIALLY_SET 2; EINVAL for other bits). */
  enableManualDirtyLogProtect(flags: number): void;
  enableDirtyLogRing(bytes: number): void;
  resetDirtyRings(): number;
  enableUserSpaceMsr(mask: number): void;
  setMsrFilter(flags: number, ranges: Uint8Array, bitmaps: Uint8Array): void;
  createVcpu(id: number): NativeVcpu;
  close(): void;
}

export interface NativeVcpu extends NativeVcpuState {
  run(): number;
  /**
   * A function that does what run() does, minus the method call's unwrap (for the run loop), and
   * returns nothing: the loop decodes kvm_run itself.
   */
  runner(): () => void;
  runBuffer(): ArrayBuffer;
  kick(): void;
  kickId(): number;
  /** Hands the vCPU fd to a new share (see share.cc) and closes this object; returns the token. */
  transfer(): number;
  getRegs(): Uint8Array;
  setRegs(bytes: Uint8Array): void;
  getSregs(): Uint8Array;
  setSregs(bytes: Uint8Array): void;
  benchExitLoop(maxExits: number): [number, number];
  /** The vCPU's dirty ring: published entries as (slot, offset) pairs, marked collected; empty without a ring. */
  reapDirtyRing(): BigUint64Array;
  close(): void;
}

/** What the compiled addon exports. Every function validates its arguments and throws errors with an errno `code`. */
export interface NativeBinding extends NativeSystemFunctions {
  readonly RamBlock: new (name: string, size: bigint) => NativeRamBlock;
  readonly Vm: new (devicePath: string) => NativeVm;
  eventfdCreate(): number;
  eventfdRead(fd: number): bigint | null;
  eventfdWrite(fd: number, value: bigint): void;
  eventfdClose(fd: number): void;
  probeDevice(devicePath: string): number;
  kickVcpu(kickId: number): boolean;
  shareRam(hostAddr: bigint, length: bigint): number;
  ramView(token: number, offset: bigint, length: bigint): ArrayBuffer;
  adoptVcpu(token: number): [NativeVcpu, number];
  dropShare(token: number): boolean;
  pageSize(): number;
  readonly layout: NativeLayout;
}

/** Where the binary was looked for, and why loading failed. */
export interface BindingLoadFailure {
  readonly detail: string;
  readonly triedPaths: readonly string[];
}

/** The package root: src/ and dist/ both sit one level below it. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

let cached: NativeBinding | BindingLoadFailure | undefined;

export function isBinding(value: NativeBinding | BindingLoadFailure): value is NativeBinding {
  return "layout" in value;
}

/**
 * Loads the addon on first use (never at import, so the package imports on any
 * platform): build/Release first, then prebuilds/<platform>-<arch>, as node-gyp-build does.
 */
export function loadBinding(): NativeBinding | BindingLoadFailure {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const triedPaths = [
    path.join(packageRoot, "build/Release/kvm_native.node"),
    path.join(packageRoot, "prebuilds", `${process.platform}-${process.arch}`),
  ];
  try {
    const load = require("node-gyp-build") as (dir: string) => unknown;
    cached = load(packageRoot) as NativeBinding;
  } catch (error) {
    cached = { detail: error instanceof Error ? error.message : String(error), triedPaths };
  }
  return cached;
}
