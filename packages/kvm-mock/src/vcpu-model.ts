import type {
  CpuidEntry,
  DebugRegs,
  Fpu,
  GuestDebug,
  Lapic,
  MpState,
  MsrEntry,
  Translation,
  VcpuEvents,
  Xcrs,
  Xsave,
} from "@memtopo/kvm";
import type { CpuState } from "./cpu/state.js";
import type { VcpuRegisters } from "./cpu/vcpu-bus.js";
import { kernelError, MockKvmUsageError } from "./errors.js";
import type { KvmMethod } from "./recorder.js";
import { checkDebugRegs, checkGuestDebug, checkMpState, checkVcpuEvents, DR6_RESET, DR7_RESET } from "./vcpu/events.js";
import { FpuState } from "./vcpu/fpu.js";
import { acceptsPicInterrupt, copyLapic, resetLapic } from "./vcpu/lapic.js";
import { MsrFile } from "./vcpu/msrs.js";
import { checkCpuid, findCpuid } from "./vcpu/supported-cpuid.js";
import { translate } from "./vcpu/translate.js";

/** Records one vCPU call the way the VM records its own. */
export type CallVcpu = <T>(method: KvmMethod, args: readonly unknown[], operation: string, body: () => T) => T;

/** `MSR_IA32_APICBASE_ENABLE` and `MSR_IA32_APICBASE_BSP` over the default base, as kvm_lapic_reset sets them. */
const APIC_DEFAULT_BASE = 0xfee0_0000n;
const APIC_ENABLE = 1n << 11n;
const APIC_BSP = 1n << 8n;
/** `MAX_IO_MSRS`: KVM_GET/SET_MSRS take fewer entries than this. */
const MAX_IO_MSRS = 256;
const NMI_VECTOR = 2;

/** An event set through KVM_SET_VCPU_EVENTS that the next run delivers. */
export interface PendingInjection {
  readonly vector: number;
}

/** What the model reads of its vCPU and VM. */
export interface ModelHost {
  readonly cpu: () => CpuState;
  /** The VM's virtual clock (ns): the TSC counts it. */
  readonly now: () => number;
  /** Eight bytes of guest-physical memory (RAM only), for the page walk of KVM_TRANSLATE. */
  readonly readPhys: (gpa: bigint) => bigint | null;
}

function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new MockKvmUsageError("expected an integer in [0, 2^32)", path);
  }
  return value;
}

/**
 * The state of a mock vCPU beyond its general registers, behind the KVM_GET/SET_* vCPU
 * ioctls with the kernel's checks: CPUID (empty until KVM_SET_CPUID2), MSRs, FPU/XSAVE/XCRS,
 * the LAPIC page (with the in-kernel irqchip only), events, MP state and debug registers.
 * It also answers the guest's CPUID, RDMSR and WRMSR.
 */
export class VcpuModel implements VcpuRegisters {
  readonly id: number;
  /** APIC_BASE after reset: enabled when the VM has the in-kernel LAPIC, BSP on vCPU 0. */
  readonly apicBase: bigint;
  readonly #host: ModelHost;
  readonly #lapicInKernel: boolean;
  #cpuid: readonly CpuidEntry[] = [];
  readonly #msrs: MsrFile;
  readonly #fpu = new FpuState();
  #lapic: Lapic | null;
  #mpState: MpState;
  #nmiPending = 0;
  #nmiMasked = 0;
  #pending: PendingInjection | null = null;
  #debugRegs: DebugRegs = { db: [0n, 0n, 0n, 0n], dr6: DR6_RESET, dr7: DR7_RESET, flags: 0n };
  #guestDebug: GuestDebug = { control: 0, debugreg: Array.from({ length: 8 }, () => 0n) };
  /** Whether KVM_RUN has entered the guest (after which CPUID is frozen). */
  hasRun = false;

  constructor(id: number, lapicInKernel: boolean, host: ModelHost) {
    this.id = id;
    this.#host = host;
    this.#lapicInKernel = lapicInKernel;
    this.apicBase = lapicInKernel ? APIC_DEFAULT_BASE | APIC_ENABLE | (id === 0 ? APIC_BSP : 0n) : 0n;
    this.#lapic = lapicInKernel ? resetLapic(id) : null;
    // With the in-kernel LAPIC, application processors wait for INIT/SIPI.
    this.#mpState = !lapicInKernel || id === 0 ? "runnable" : "uninitialized";
    const sregs = (): ReturnType<CpuState["getSregs"]> => host.cpu().getSregs();
    this.#msrs = new MsrFile({
      getEfer: () => sregs().efer,
      setEfer: (value) => host.cpu().setSregs({ ...sregs(), efer: value }),
      getApicBase: () => sregs().apicBase,
      setApicBase: (value) => host.cpu().setSregs({ ...sregs(), apicBase: value }),
      hostTsc: () => BigInt(Math.floor(host.now())),
    });
  }

  // --- The guest's view.

  rdmsr(index: number): bigint | null {
    return this.#msrs.get(index);
  }

  wrmsr(index: number, value: bigint): boolean {
    return this.#msrs.set(index, value);
  }

  /** The guest's CPUID: the KVM_SET_CPUID2 entry for the leaf (and subleaf where it matters), else zeros. */
  cpuid(eax: number, ecx: number): readonly [number, number, number, number] {
    const e = findCpuid(this.#cpuid, eax, ecx);
    if (e === undefined) return [0, 0, 0, 0];
    // Leaf 1 EBX[31:24] is the initial APIC id: the kernel's vCPU answers with its own.
    const ebx = eax === 1 ? ((e.ebx & 0x00ff_ffff) | ((this.id & 0xff) << 24)) >>> 0 : e.ebx;
    return [e.eax, ebx, e.ecx, e.edx];
  }

  /** Whether the PIC's ExtINT reaches this vCPU (LVT0, APIC_BASE). */
  acceptsPicInterrupt(): boolean {
    return acceptsPicInterrupt(this.#lapic, this.#host.cpu().getSregs().apicBase);
  }

  /** The event KVM_SET_VCPU_EVENTS left for the next entry, taken. */
  takeInjection(): PendingInjection | null {
    const p = this.#pending;
    this.#pending = null;
    if (p !== null) return p;
    if (this.#nmiPending !== 0 && this.#nmiMasked === 0) {
      this.#nmiPending = 0;
      return { vector: NMI_VECTOR };
    }
    return null;
  }

  get mpState(): MpState {
    return this.#mpState;
  }

  set mpState(state: MpState) {
    this.#mpState = state;
  }

  get guestDebug(): GuestDebug {
    return this.#guestDebug;
  }

  // --- The ioctls.

  getCpuid2(): CpuidEntry[] {
    return this.#cpuid.map((e) => ({ ...e }));
  }

  setCpuid2(entries: readonly CpuidEntry[]): void {
    this.#cpuid = checkCpuid(entries, this.#cpuid, this.hasRun);
  }

  getMsrs(indices: readonly number[]): MsrEntry[] {
    if (!Array.isArray(indices)) throw new MockKvmUsageError("expected an array", "indices");
    const list = indices.map((index, i) => u32(index, `indices[${i}]`));
    if (list.length >= MAX_IO_MSRS) {
      throw kernelError("E2BIG", "KVM_GET_MSRS", `${list.length} MSRs: a batch must stay below ${MAX_IO_MSRS}`);
    }
    const out: MsrEntry[] = [];
    for (const index of list) {
      const data = this.#msrs.get(index);
      if (data === null) break;
      out.push({ index, data });
    }
    return out;
  }

  setMsrs(entries: readonly MsrEntry[]): number {
    if (!Array.isArray(entries)) throw new MockKvmUsageError("expected an array", "entries");
    const list = entries.map((e, i) => {
      if (typeof e !== "object" || e === null) throw new MockKvmUsageError("expected an object", `entries[${i}]`);
      if (typeof e.data !== "bigint" || e.data < 0n || e.data >= 1n << 64n) {
        throw new MockKvmUsageError("expected a u64 bigint", `entries[${i}].data`);
      }
      return { index: u32(e.index, `entries[${i}].index`), data: e.data };
    });
    if (list.length >= MAX_IO_MSRS) {
      throw kernelError("E2BIG", "KVM_SET_MSRS", `${list.length} MSRs: a batch must stay below ${MAX_IO_MSRS}`);
    }
    let written = 0;
    for (const { index, data } of list) {
      if (!this.#msrs.set(index, data)) break;
      written++;
    }
    return written;
  }

  getFpu(): Fpu {
    return this.#fpu.getFpu();
  }

  setFpu(fpu: Fpu): void {
    this.#fpu.setFpu(fpu);
  }

  getXsave(): Xsave {
    return this.#fpu.getXsave();
  }

  setXsave(xsave: Xsave): void {
    this.#fpu.setXsave(xsave);
  }

  getXcrs(): Xcrs {
    return this.#fpu.getXcrs();
  }

  setXcrs(xcrs: Xcrs): void {
    const leaf = findCpuid(this.#cpuid, 0xd, 0);
    const offered = leaf === undefined ? 0n : (BigInt(leaf.edx) << 32n) | BigInt(leaf.eax);
    this.#fpu.setXcrs(xcrs, offered);
  }

  getLapic(): Lapic {
    const lapic = this.#requireLapic("KVM_GET_LAPIC");
    return {
      ...lapic,
      isr: [...lapic.isr],
      tmr: [...lapic.tmr],
      irr: [...lapic.irr],
      icr: [...lapic.icr],
      lvt: { ...lapic.lvt },
    };
  }

  setLapic(lapic: Lapic): void {
    this.#requireLapic("KVM_SET_LAPIC");
    this.#lapic = copyLapic(lapic);
  }

  getVcpuEvents(interruptShadow: boolean): VcpuEvents {
    const p = this.#pending;
    return {
      exception: {
        injected: p !== null && p.vector < 32 ? 1 : 0,
        nr: p !== null && p.vector < 32 ? p.vector : 0,
        hasErrorCode: 0,
        pending: 0,
        errorCode: 0,
        hasPayload: 0,
        payload: 0n,
      },
      interrupt: {
        injected: p !== null && p.vector >= 32 ? 1 : 0,
        nr: p !== null && p.vector >= 32 ? p.vector : 0,
        soft: 0,
        shadow: interruptShadow ? 2 : 0,
      },
      nmi: { injected: 0, pending: this.#nmiPending, masked: this.#nmiMasked },
      sipiVector: 0,
      // NMI_PENDING | SHADOW | SMM: the parts a get always fills in.
      flags: 0x1 | 0x4 | 0x8,
      smi: { smm: 0, pending: 0, smmInsideNmi: 0, latchedInit: 0 },
      tripleFault: { pending: 0 },
    };
  }

  /** Applies checked events; returns the interrupt shadow to set when the SHADOW part is valid. */
  setVcpuEvents(events: VcpuEvents): boolean | null {
    const e = checkVcpuEvents(events, this.#mpState);
    if (e.exception.injected !== 0) this.#pending = { vector: e.exception.nr };
    else if (e.interrupt.injected !== 0) this.#pending = { vector: e.interrupt.nr };
    else this.#pending = null;
    if ((e.flags & 0x1) !== 0) this.#nmiPending = e.nmi.pending === 0 ? 0 : 1;
    this.#nmiMasked = e.nmi.masked === 0 ? 0 : 1;
    return (e.flags & 0x4) !== 0 ? e.interrupt.shadow !== 0 : null;
  }

  setMpState(state: MpState): void {
    this.#mpState = checkMpState(state, this.#lapicInKernel);
  }

  getDebugRegs(): DebugRegs {
    return { ...this.#debugRegs, db: [...this.#debugRegs.db] };
  }

  setDebugRegs(regs: DebugRegs): void {
    this.#debugRegs = checkDebugRegs(regs);
  }

  setGuestDebug(debug: GuestDebug): void {
    this.#guestDebug = checkGuestDebug(debug);
  }

  translate(linear: bigint): Translation {
    if (typeof linear !== "bigint" || linear < 0n || linear >= 1n << 64n) {
      throw new MockKvmUsageError("expected a u64 bigint", "linearAddress");
    }
    return translate(this.#host.cpu().getSregs(), linear, this.#host.readPhys);
  }

  #requireLapic(operation: string): Lapic {
    if (this.#lapic === null)
      throw kernelError("EINVAL", operation, "the vCPU has no in-kernel LAPIC (KVM_CREATE_IRQCHIP first)");
    return this.#lapic;
  }
}
