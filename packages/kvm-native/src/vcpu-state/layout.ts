/** layout.vcpuState: offsets of the vCPU state structs, computed by the addon with offsetof. */
export interface VcpuStateLayout {
  readonly cpuidEntry: Readonly<
    Record<"size" | "function" | "index" | "flags" | "eax" | "ebx" | "ecx" | "edx", number>
  >;
  readonly msrEntry: Readonly<Record<"size" | "index" | "data", number>>;
  readonly fpu: Readonly<
    Record<"size" | "fpr" | "fcw" | "fsw" | "ftwx" | "lastOpcode" | "lastIp" | "lastDp" | "xmm" | "mxcsr", number>
  >;
  readonly xsave: Readonly<Record<"size", number>>;
  readonly xcrs: Readonly<Record<"size" | "nrXcrs" | "flags" | "xcrs" | "max" | "entrySize" | "xcr" | "value", number>>;
  readonly lapic: Readonly<Record<"size", number>>;
  readonly vcpuEvents: Readonly<Record<VcpuEventsField | "size", number>>;
  readonly debugRegs: Readonly<Record<"size" | "db" | "dr6" | "dr7" | "flags", number>>;
  readonly guestDebug: Readonly<Record<"size" | "control" | "debugreg", number>>;
  readonly translation: Readonly<
    Record<"size" | "linearAddress" | "physicalAddress" | "valid" | "writeable" | "usermode", number>
  >;
  /** The most entries the addon puts in one kvm_cpuid2 / kvm_msrs. */
  readonly limits: Readonly<Record<"cpuidEntries" | "msrEntries", number>>;
}

export type VcpuEventsField =
  | "exceptionInjected"
  | "exceptionNr"
  | "exceptionHasErrorCode"
  | "exceptionPending"
  | "exceptionErrorCode"
  | "interruptInjected"
  | "interruptNr"
  | "interruptSoft"
  | "interruptShadow"
  | "nmiInjected"
  | "nmiPending"
  | "nmiMasked"
  | "sipiVector"
  | "flags"
  | "smiSmm"
  | "smiPending"
  | "smiSmmInsideNmi"
  | "smiLatchedInit"
  | "tripleFaultPending"
  | "exceptionHasPayload"
  | "exceptionPayload";

/** The addon's vCPU state methods: struct bytes in and out (see native/vcpu-state.h). */
export interface NativeVcpuState {
  getCpuid2(): Uint8Array;
  setCpuid2(entries: Uint8Array): void;
  getMsrs(entries: Uint8Array): Uint8Array;
  setMsrs(entries: Uint8Array): number;
  getFpu(): Uint8Array;
  setFpu(bytes: Uint8Array): void;
  getXsave(): Uint8Array;
  setXsave(bytes: Uint8Array): void;
  getXcrs(): Uint8Array;
  setXcrs(bytes: Uint8Array): void;
  getLapic(): Uint8Array;
  setLapic(bytes: Uint8Array): void;
  getVcpuEvents(): Uint8Array;
  setVcpuEvents(bytes: Uint8Array): void;
  getMpState(): number;
  setMpState(state: number): void;
  getDebugRegs(): Uint8Array;
  setDebugRegs(bytes: Uint8Array): void;
  setGuestDebug(bytes: Uint8Array): void;
  translate(linearAddress: bigint): Uint8Array;
}

/** The addon's reads on the KVM device (system.cc); each opens `devicePath` for the call. */
export interface NativeSystemFunctions {
  getSupportedCpuid(devicePath: string): Uint8Array;
  getEmulatedCpuid(devicePath: string): Uint8Array;
  getMsrIndexList(devicePath: string): Uint8Array;
  getMsrFeatureIndexList(devicePath: string): Uint8Array;
}
