// The x86 vCPU state a VMM reads and writes through KVM, as plain TypeScript objects
// (bigint for 64-bit and wider fields, number for the rest): one shape per kernel struct
// of <linux/kvm.h> / <asm/kvm.h>, shared by every backend. Byte layouts stay in the
// backends; these types never carry a raw struct buffer.

export const REG_NAMES = [
  "rax",
  "rbx",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "rsp",
  "rbp",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
  "rip",
  "rflags",
] as const;
export type RegName = (typeof REG_NAMES)[number];

export const SEGMENT_NAMES = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"] as const;
export type SegmentName = (typeof SEGMENT_NAMES)[number];

/** `struct kvm_regs`. */
export type Regs = Record<RegName, bigint>;

/** `struct kvm_segment`. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** `struct kvm_dtable`. */
export interface DTable {
  base: bigint;
  limit: number;
}

/** `struct kvm_sregs`. */
export type Sregs = Record<SegmentName, Segment> & {
  gdt: DTable;
  idt: DTable;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  cr8: bigint;
  efer: bigint;
  apicBase: bigint;
  /** 256 bits, one per pending external interrupt (32 bytes). */
  interruptBitmap: Uint8Array;
};

/** `struct kvm_cpuid_entry2`: what CPUID answers for one (function, index). All fields are u32. */
export interface CpuidEntry {
  function: number;
  index: number;
  /** KVM_CPUID_FLAG_* ({@link KVM_CPUID_FLAG}). */
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

export const KVM_CPUID_FLAG = {
  /** `index` selects a sub-leaf (ECX matters). */
  SIGNIFICANT_INDEX: 1,
  STATEFUL_FUNC: 2,
  STATE_READ_NEXT: 4,
} as const;

/** `struct kvm_msr_entry`: one model-specific register. */
export interface MsrEntry {
  /** The MSR number (u32), as ECX of RDMSR/WRMSR. */
  index: number;
  data: bigint;
}

/** `struct kvm_fpu`: the x87 and SSE state in FXSAVE terms. */
export interface Fpu {
  /** ST0..ST7 (8 entries): each 16-byte slot as an unsigned little-endian 128-bit value (80 bits used). */
  fpr: bigint[];
  fcw: number;
  fsw: number;
  /** The abridged tag word (one bit per register, as FXSAVE). */
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  /** XMM0..XMM15 (16 entries), unsigned little-endian 128-bit values. */
  xmm: bigint[];
  /** x86 KVM neither reads nor writes it through KVM_GET/SET_FPU (it reads 0): use {@link Xsave}. */
  mxcsr: number;
}

/**
 * `struct kvm_xsave` (4096 bytes, the XSAVE area in standard format): the legacy FXSAVE
 * region and the XSAVE header by field; the extended components, whose offsets CPUID leaf
 * 0xD gives, as the bytes after the header.
 */
export interface Xsave {
  fcw: number;
  fsw: number;
  /** The abridged tag word (u8). */
  ftw: number;
  fop: number;
  fip: bigint;
  fdp: bigint;
  mxcsr: number;
  mxcsrMask: number;
  /** ST0..ST7 (8 entries), unsigned little-endian 128-bit values. */
  st: bigint[];
  /** XMM0..XMM15 (16 entries), unsigned little-endian 128-bit values. */
  xmm: bigint[];
  /** XSTATE_BV: which components hold state. */
  xstateBv: bigint;
  /** XCOMP_BV: 0 in the standard format KVM uses. */
  xcompBv: bigint;
  /** Bytes 576..4096: the extended components (AVX's YMM_Hi128 at 576, the rest where CPUID 0xD puts them). */
  extended: Uint8Array;
}

/** One extended control register (`struct kvm_xcr`). */
export interface Xcr {
  /** The XCR number (0 for XCR0). */
  xcr: number;
  value: bigint;
}

/** `struct kvm_xcrs`: at most {@link KVM_MAX_XCRS} registers. */
export interface Xcrs {
  flags: number;
  xcrs: Xcr[];
}

export const KVM_MAX_XCRS = 16;

/** The local vector table entries of a LAPIC, in QEMU's order (APIC_LVT_*). */
export const LVT_NAMES = ["timer", "thermal", "perf", "lint0", "lint1", "error", "cmci"] as const;
export type LvtName = (typeof LVT_NAMES)[number];

/**
 * `struct kvm_lapic_state`: the 1 KiB xAPIC register page, one u32 per architected
 * register (each sits at the start of its 16-byte slot). Values are the registers as the
 * kernel keeps them: `id` is the whole APIC ID register (the xAPIC ID is bits 31:24).
 */
export interface Lapic {
  /** 0x20 */
  id: number;
  /** 0x30 */
  version: number;
  /** 0x80 task priority */
  tpr: number;
  /** 0x90 arbitration priority */
  apr: number;
  /** 0xa0 processor priority */
  ppr: number;
  /** 0xd0 logical destination */
  ldr: number;
  /** 0xe0 destination format */
  dfr: number;
  /** 0xf0 spurious interrupt vector */
  svr: number;
  /** 0x100..0x170: in-service, 8 x 32 bits (vector v is bit v%32 of isr[v/32]) */
  isr: number[];
  /** 0x180..0x1f0: trigger mode, 8 x 32 bits */
  tmr: number[];
  /** 0x200..0x270: interrupt request, 8 x 32 bits */
  irr: number[];
  /** 0x280 error status */
  esr: number;
  /** 0x300 (low) and 0x310 (high) interrupt command */
  icr: [number, number];
  /** 0x320..0x370 and 0x2f0 (cmci) */
  lvt: Record<LvtName, number>;
  /** 0x380 */
  timerInitialCount: number;
  /** 0x390 */
  timerCurrentCount: number;
  /** 0x3e0 */
  timerDivide: number;
}

/** `struct kvm_vcpu_events`: events in flight on a vCPU. u8 fields are numbers (0/1 for flags). */
export interface VcpuEvents {
  exception: {
    injected: number;
    /** The vector. */
    nr: number;
    hasErrorCode: number;
    /** Set by the kernel only with KVM_CAP_EXCEPTION_PAYLOAD enabled. */
    pending: number;
    errorCode: number;
    hasPayload: number;
    /** CR2 for #PF, DR6 bits for #DB (with KVM_VCPUEVENT_VALID_PAYLOAD). */
    payload: bigint;
  };
  interrupt: {
    injected: number;
    nr: number;
    soft: number;
    /** KVM_X86_SHADOW_INT_MOV_SS (1) | KVM_X86_SHADOW_INT_STI (2). */
    shadow: number;
  };
  nmi: { injected: number; pending: number; masked: number };
  sipiVector: number;
  /** KVM_VCPUEVENT_VALID_* ({@link KVM_VCPUEVENT_VALID}): which optional parts a set applies. */
  flags: number;
  smi: { smm: number; pending: number; smmInsideNmi: number; latchedInit: number };
  tripleFault: { pending: number };
}

export const KVM_VCPUEVENT_VALID = {
  NMI_PENDING: 0x1,
  SIPI_VECTOR: 0x2,
  SHADOW: 0x4,
  SMM: 0x8,
  PAYLOAD: 0x10,
  TRIPLE_FAULT: 0x20,
} as const;

export const KVM_X86_SHADOW_INT = { MOV_SS: 1, STI: 2 } as const;

/** KVM_MP_STATE_* by name, in the kernel's numbering. */
export const MP_STATES = [
  "runnable",
  "uninitialized",
  "init-received",
  "halted",
  "sipi-received",
  "stopped",
  "check-stop",
  "operating",
  "load",
  "ap-reset-hold",
  "suspended",
] as const;
/** `struct kvm_mp_state`: MP_STATES[n] names KVM_MP_STATE n. */
export type MpState = (typeof MP_STATES)[number];

/** `struct kvm_debugregs`. */
export interface DebugRegs {
  /** DR0..DR3 (4 entries). */
  db: bigint[];
  dr6: bigint;
  dr7: bigint;
  flags: bigint;
}

/** `struct kvm_guest_debug` (x86). */
export interface GuestDebug {
  /** KVM_GUESTDBG_* ({@link KVM_GUESTDBG}). */
  control: number;
  /** DR0..DR7 (8 entries; DR4/DR5 unused) for KVM_GUESTDBG_USE_HW_BP. */
  debugreg: bigint[];
}

export const KVM_GUESTDBG = {
  ENABLE: 0x1,
  SINGLESTEP: 0x2,
  USE_SW_BP: 0x10000,
  USE_HW_BP: 0x20000,
  INJECT_DB: 0x40000,
  INJECT_BP: 0x80000,
  BLOCKIRQ: 0x100000,
} as const;

/**
 * `struct kvm_translation`: a linear address through the vCPU's current paging mode (a
 * supervisor read). x86 KVM reports `writeable` true and `usermode` false whatever the tables say.
 */
export interface Translation {
  linearAddress: bigint;
  physicalAddress: bigint;
  valid: boolean;
  writeable: boolean;
  usermode: boolean;
}

/**
 * Typed get/set of a vCPU's state: rust-vmm `VcpuFd`'s state methods. Each call is one
 * ioctl on the vCPU; a rejected argument throws a KvmError and changes nothing.
 */
export interface KvmVcpuState {
  getRegs(): Regs;
  setRegs(regs: Regs): void;
  getSregs(): Sregs;
  setSregs(sregs: Sregs): void;
  /** KVM_GET_CPUID2: the table set by setCpuid2 (empty before), as the kernel keeps it. */
  getCpuid2(): CpuidEntry[];
  /** KVM_SET_CPUID2. */
  setCpuid2(entries: readonly CpuidEntry[]): void;
  /**
   * KVM_GET_MSRS: reads the MSRs in order and stops at the first the kernel refuses, so the
   * result may be shorter than `indices` (its length is the ioctl's return value).
   */
  getMsrs(indices: readonly number[]): MsrEntry[];
  /** KVM_SET_MSRS: writes in order, stops at the first refused; returns how many were written. */
  setMsrs(entries: readonly MsrEntry[]): number;
  getFpu(): Fpu;
  setFpu(fpu: Fpu): void;
  getXsave(): Xsave;
  setXsave(xsave: Xsave): void;
  getXcrs(): Xcrs;
  setXcrs(xcrs: Xcrs): void;
  /** Needs an in-kernel LAPIC (KVM_CREATE_IRQCHIP before the vCPU). */
  getLapic(): Lapic;
  setLapic(lapic: Lapic): void;
  getVcpuEvents(): VcpuEvents;
  setVcpuEvents(events: VcpuEvents): void;
  getMpState(): MpState;
  setMpState(state: MpState): void;
  getDebugRegs(): DebugRegs;
  setDebugRegs(debugRegs: DebugRegs): void;
  /** KVM_SET_GUEST_DEBUG: single-step and breakpoints reported as "debug" exits. */
  setGuestDebug(debug: GuestDebug): void;
  /** KVM_TRANSLATE. */
  translate(linearAddress: bigint): Translation;
}

/** System-wide reads a VMM makes before building vCPUs (rust-vmm `Kvm`'s). */
export interface KvmSystemState {
  /** KVM_GET_SUPPORTED_CPUID: what the host's KVM can offer a guest. */
  getSupportedCpuid(): CpuidEntry[];
  /** KVM_GET_EMULATED_CPUID: what KVM emulates even without host support. */
  getEmulatedCpuid(): CpuidEntry[];
  /** KVM_GET_MSR_INDEX_LIST: the MSRs getMsrs/setMsrs may name. */
  getMsrIndexList(): number[];
  /** KVM_GET_MSR_FEATURE_INDEX_LIST: the feature MSRs readable on the system. */
  getMsrFeatureIndexList(): number[];
}
