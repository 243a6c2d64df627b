import type {
  CpuidEntry,
  DebugRegs,
  Fpu,
  GuestDebug,
  KvmVcpuState,
  Lapic,
  MpState,
  MsrEntry,
  Translation,
  VcpuEvents,
  Xcrs,
  Xsave,
} from "@memtopo/kvm";
import { native } from "../errors.js";
import { u64 } from "./codec.js";
import { decodeCpuid, encodeCpuid } from "./cpuid.js";
import { decodeDebugRegs, encodeDebugRegs, encodeGuestDebug } from "./debug.js";
import { decodeVcpuEvents, encodeVcpuEvents } from "./events.js";
import { decodeFpu, encodeFpu } from "./fpu.js";
import { decodeLapic, encodeLapic } from "./lapic.js";
import type { NativeVcpuState, VcpuStateLayout } from "./layout.js";
import { decodeMpState, encodeMpState } from "./mp-state.js";
import { decodeMsrs, encodeMsrIndices, encodeMsrs } from "./msrs.js";
import { decodeTranslation } from "./translation.js";
import { decodeXcrs, encodeXcrs } from "./xcrs.js";
import { decodeXsave, encodeXsave } from "./xsave.js";

/** What a vCPU's typed state calls do, apart from the registers the Vcpu class has always had. */
export type VcpuStateCalls = Omit<KvmVcpuState, "getRegs" | "setRegs" | "getSregs" | "setSregs">;

/**
 * A vCPU's typed state over the addon's byte-level calls: each method encodes (checking
 * every field first), makes one native call, decodes. The Vcpu class forwards to it.
 */
export class VcpuStateAccess implements VcpuStateCalls {
  readonly #native: NativeVcpuState;
  readonly #layout: VcpuStateLayout;

  constructor(nativeVcpu: NativeVcpuState, layout: VcpuStateLayout) {
    this.#native = nativeVcpu;
    this.#layout = layout;
  }

  getCpuid2(): CpuidEntry[] {
    const op = "KVM_GET_CPUID2";
    return decodeCpuid(
      this.#layout,
      op,
      native(op, () => this.#native.getCpuid2()),
    );
  }

  setCpuid2(entries: readonly CpuidEntry[]): void {
    const op = "KVM_SET_CPUID2";
    const bytes = encodeCpuid(this.#layout, op, entries);
    native(op, () => this.#native.setCpuid2(bytes));
  }

  getMsrs(indices: readonly number[]): MsrEntry[] {
    const op = "KVM_GET_MSRS";
    const bytes = encodeMsrIndices(this.#layout, op, indices);
    return decodeMsrs(
      this.#layout,
      op,
      native(op, () => this.#native.getMsrs(bytes)),
    );
  }

  setMsrs(entries: readonly MsrEntry[]): number {
    const op = "KVM_SET_MSRS";
    const bytes = encodeMsrs(this.#layout, op, entries);
    return native(op, () => this.#native.setMsrs(bytes));
  }

  getFpu(): Fpu {
    return decodeFpu(
      this.#layout,
      native("KVM_GET_FPU", () => this.#native.getFpu()),
    );
  }

  setFpu(fpu: Fpu): void {
    const bytes = encodeFpu(this.#layout, fpu);
    native("KVM_SET_FPU", () => this.#native.setFpu(bytes));
  }

  getXsave(): Xsave {
    return decodeXsave(
      this.#layout,
      native("KVM_GET_XSAVE", () => this.#native.getXsave()),
    );
  }

  setXsave(xsave: Xsave): void {
    const bytes = encodeXsave(this.#layout, xsave);
    native("KVM_SET_XSAVE", () => this.#native.setXsave(bytes));
  }

  getXcrs(): Xcrs {
    return decodeXcrs(
      this.#layout,
      native("KVM_GET_XCRS", () => this.#native.getXcrs()),
    );
  }

  setXcrs(xcrs: Xcrs): void {
    const bytes = encodeXcrs(this.#layout, xcrs);
    native("KVM_SET_XCRS", () => this.#native.setXcrs(bytes));
  }

  getLapic(): Lapic {
    return decodeLapic(
      this.#layout,
      native("KVM_GET_LAPIC", () => this.#native.getLapic()),
    );
  }

  setLapic(lapic: Lapic): void {
    const bytes = encodeLapic(this.#layout, lapic);
    native("KVM_SET_LAPIC", () => this.#native.setLapic(bytes));
  }

  getVcpuEvents(): VcpuEvents {
    return decodeVcpuEvents(
      this.#layout,
      native("KVM_GET_VCPU_EVENTS", () => this.#native.getVcpuEvents()),
    );
  }

  setVcpuEvents(events: VcpuEvents): void {
    const bytes = encodeVcpuEvents(this.#layout, events);
    native("KVM_SET_VCPU_EVENTS", () => this.#native.setVcpuEvents(bytes));
  }

  getMpState(): MpState {
    return decodeMpState(native("KVM_GET_MP_STATE", () => this.#native.getMpState()));
  }

  setMpState(state: MpState): void {
    const value = encodeMpState(state);
    native("KVM_SET_MP_STATE", () => this.#native.setMpState(value));
  }

  getDebugRegs(): DebugRegs {
    return decodeDebugRegs(
      this.#layout,
      native("KVM_GET_DEBUGREGS", () => this.#native.getDebugRegs()),
    );
  }

  setDebugRegs(debugRegs: DebugRegs): void {
    const bytes = encodeDebugRegs(this.#layout, debugRegs);
    native("KVM_SET_DEBUGREGS", () => this.#native.setDebugRegs(bytes));
  }

  setGuestDebug(debug: GuestDebug): void {
    const bytes = encodeGuestDebug(this.#layout, debug);
    native("KVM_SET_GUEST_DEBUG", () => this.#native.setGuestDebug(bytes));
  }

  translate(linearAddress: bigint): Translation {
    const op = "KVM_TRANSLATE";
    const address = u64(op, "linearAddress", linearAddress);
    return decodeTranslation(
      this.#layout,
      native(op, () => this.#native.translate(address)),
    );
  }
}
