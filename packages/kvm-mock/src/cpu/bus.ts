import type { OpSize } from "./alu.js";

/**
 * Where the interpreter's accesses go. Addresses are linear (= guest-physical: the
 * interpreter runs with paging off). An access that must leave the guest for user
 * space makes the method throw {@link VcpuExitPending}; the instruction is then rolled
 * back and executed again once user space has answered, as KVM's emulator does.
 */
export interface CpuBus {
  read(addr: number, size: OpSize): number;
  /** Writes take effect when the instruction completes, in order. */
  write(addr: number, size: OpSize, value: number): void;
  /** One byte of the instruction stream. */
  fetch(addr: number): number;
  in(port: number, size: OpSize): number;
  /**
   * `count` elements of `size` bytes read from `port` in one exit (a `rep ins` batch, as
   * KVM reads ahead up to the end of the destination page).
   */
  inString(port: number, size: OpSize, count: number): Uint8Array;
  out(port: number, size: OpSize, value: number): void;
  /** RDMSR: the value, or null for #GP. */
  rdmsr(index: number): bigint | null;
  /** WRMSR: false for #GP. */
  wrmsr(index: number, value: bigint): boolean;
  /** CPUID leaf `eax`, subleaf `ecx`: [eax, ebx, ecx, edx]. */
  cpuid(eax: number, ecx: number): readonly [number, number, number, number];
}

/** Thrown by a {@link CpuBus} access that needs user space first; the vCPU turns it into the exit. */
export class VcpuExitPending extends Error {
  override name = "VcpuExitPending";
}

/** The interpreter cannot execute what it fetched: KVM's "emulation failure" internal error. */
export class EmulationFailure extends Error {
  override name = "EmulationFailure";
  /** Linear address of the instruction. */
  readonly at: number;
  /** The bytes fetched so far, for the internal-error exit's data. */
  readonly bytes: readonly number[];

  constructor(message: string, at: number, bytes: readonly number[]) {
    super(message);
    this.at = at;
    this.bytes = bytes;
  }
}
