import type { VcpuExit } from "@memtopo/kvm";
import { loadLeNumber, storeLeNumber } from "@memtopo/region-tree";
import { type GuestContext, guestPioWrite, guestWrite } from "../guest.js";
import type { OpSize } from "./alu.js";
import { type CpuBus, EmulationFailure, VcpuExitPending } from "./bus.js";

/** Port I/O that devices inside the simulated kernel (PIC, PIT) take without an exit. */
export interface KernelPio {
  /** The value read, or undefined when no in-kernel device claims the port. */
  read(port: number, size: OpSize): number | undefined;
  /** True when an in-kernel device took the write. */
  write(port: number, size: OpSize, value: number): boolean;
}

/** What the vCPU itself answers: MSRs and CPUID. */
export interface VcpuRegisters {
  rdmsr(index: number): bigint | null;
  wrmsr(index: number, value: bigint): boolean;
  cpuid(eax: number, ecx: number): readonly [number, number, number, number];
}

type PendingWrite =
  | { readonly kind: "mem"; readonly addr: number; readonly bytes: Uint8Array; readonly value: bigint }
  | { readonly kind: "pio"; readonly port: number; readonly size: OpSize; readonly value: number };

type ReadExit = Extract<VcpuExit, { reason: "io" } | { reason: "mmio" }>;

/** The low `size` bytes of a register value, little-endian, in a new array. */
function bytesOf(value: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  storeLeNumber(out, 0, size, value);
  return out;
}

/**
 * The mock vCPU's view of the machine: RAM through the VM's memslots (address space 0),
 * anything else an MMIO exit; ports through the in-kernel devices, ioeventfds and
 * coalesced zones, anything else an IO exit. Reads that exit are answered by re-running
 * the instruction with the data user space put in the exit (KVM's emulator does the same);
 * writes wait until the instruction completes, then reach RAM or become exits in order.
 */
export class VcpuBus implements CpuBus {
  /** The VM's memory, ioeventfds and coalesced zones (the objects live as long as the VM). */
  readonly #ctx: GuestContext;
  readonly #kernelPio: KernelPio;
  readonly #registers: VcpuRegisters;
  /** Read exits user space has answered, for the instruction being re-run. */
  #replay: ReadExit[] = [];
  #replayIndex = 0;
  #writes: PendingWrite[] = [];
  /** The read exit that interrupted the instruction. */
  #awaiting: ReadExit | undefined;

  constructor(guest: () => GuestContext, kernelPio: KernelPio, registers: VcpuRegisters) {
    this.#ctx = guest();
    this.#kernelPio = kernelPio;
    this.#registers = registers;
  }

  fetch(addr: number): number {
    const bytes = this.#ram(addr, 1);
    if (bytes === null) {
      throw new EmulationFailure(`instruction fetch from 0x${addr.toString(16)}, which no RAM memslot backs`, addr, []);
    }
    return bytes[0]!;
  }

  read(addr: number, size: OpSize): number {
    const bytes = this.#ram(addr, size);
    if (bytes !== null) return loadLeNumber(bytes);
    if (this.#straddles(addr, size)) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + this.read(addr + i, 1);
      return v;
    }
    return loadLeNumber(
      this.#readExit({ reason: "mmio", addr: BigInt(addr), isWrite: false, data: new Uint8Array(size) }),
    );
  }

  write(addr: number, size: OpSize, value: number): void {
    this.#writes.push({ kind: "mem", addr, bytes: bytesOf(value, size), value: BigInt(value >>> 0) });
  }

  in(port: number, size: OpSize): number {
    const kernel = this.#kernelPio.read(port, size);
    if (kernel !== undefined) return kernel;
    return loadLeNumber(
      this.#readExit({ reason: "io", direction: "in", port, size, count: 1, data: new Uint8Array(size) }),
    );
  }

  inString(port: number, size: OpSize, count: number): Uint8Array {
    const first = this.#kernelPio.read(port, size);
    if (first !== undefined) {
      // An in-kernel device answers each element itself.
      const out = new Uint8Array(size * count);
      out.set(bytesOf(first, size));
      for (let i = 1; i < count; i++) out.set(bytesOf(this.#kernelPio.read(port, size) ?? 0, size), i * size);
      return out;
    }
    return this.#readExit({ reason: "io", direction: "in", port, size, count, data: new Uint8Array(size * count) });
  }

  out(port: number, size: OpSize, value: number): void {
    this.#writes.push({ kind: "pio", port, size, value });
  }

  rdmsr(index: number): bigint | null {
    return this.#registers.rdmsr(index);
  }

  wrmsr(index: number, value: bigint): boolean {
    return this.#registers.wrmsr(index, value);
  }

  cpuid(eax: number, ecx: number): readonly [number, number, number, number] {
    return this.#registers.cpuid(eax, ecx);
  }

  /**
   * The instruction completed: its writes take effect in order. Returns the exits they make
   * (MMIO writes no slot takes, port writes no in-kernel device or ioeventfd takes).
   */
  commit(): VcpuExit[] {
    const exits: VcpuExit[] = [];
    const writes = this.#writes;
    this.#writes = [];
    this.#replay = [];
    this.#replayIndex = 0;
    for (const w of writes) {
      if (w.kind === "mem") this.#commitStore(w.addr, w.bytes, w.value, exits);
      else if (!this.#kernelPio.write(w.port, w.size, w.value)) {
        const outcome = guestPioWrite(this.#ctx, w.port, BigInt(w.value >>> 0), w.size);
        if (outcome.kind === "pio-exit") {
          exits.push({
            reason: "io",
            direction: "out",
            port: w.port,
            size: w.size,
            count: 1,
            data: bytesOf(w.value, w.size),
          });
        }
      }
    }
    return exits;
  }

  /**
   * The instruction stopped for user space: its writes are dropped (it runs again), and
   * the read exit that stopped it is returned, to be answered and replayed.
   */
  abort(): ReadExit {
    const exit = this.#awaiting;
    if (exit === undefined) throw new Error("VcpuBus.abort without a pending read");
    this.#awaiting = undefined;
    this.#writes = [];
    this.#replay.push(exit);
    this.#replayIndex = 0;
    return exit;
  }

  /** Forgets a half-done instruction (its registers were set from outside, or it failed). */
  reset(): void {
    this.#writes = [];
    this.#replay = [];
    this.#replayIndex = 0;
    this.#awaiting = undefined;
  }

  #commitStore(addr: number, bytes: Uint8Array, value: bigint, exits: VcpuExit[]): void {
    const ctx = this.#ctx;
    if (this.#straddles(addr, bytes.length)) {
      for (let i = 0; i < bytes.length; i++) {
        this.#commitStore(addr + i, bytes.subarray(i, i + 1), BigInt(bytes[i]!), exits);
      }
      return;
    }
    const outcome = guestWrite(ctx, 0, BigInt(addr), bytes, value);
    if (outcome.kind === "mmio-exit") exits.push({ reason: "mmio", addr: BigInt(addr), isWrite: true, data: bytes });
  }

  #readExit(exit: ReadExit): Uint8Array {
    const answered = this.#replay[this.#replayIndex];
    if (answered !== undefined && sameAccess(answered, exit)) {
      this.#replayIndex++;
      return answered.data;
    }
    this.#awaiting = exit;
    throw new VcpuExitPending();
  }

  /** RAM bytes of `[addr, +size)` when one memslot holds all of them (read-only ones included). */
  #ram(addr: number, size: number): Uint8Array | null {
    const ctx = this.#ctx;
    const gpa = BigInt(addr);
    const slot = ctx.slots.find(0, gpa);
    if (slot === undefined || gpa + BigInt(size) > slot.guestPhysAddr + slot.memorySize) return null;
    return ctx.memory.read(slot.userspaceAddr + (gpa - slot.guestPhysAddr), size);
  }

  /** Whether `[addr, +size)` is partly RAM, or RAM of two slots: such an access is split into bytes. */
  #straddles(addr: number, size: number): boolean {
    if (size === 1) return false;
    const ctx = this.#ctx;
    const first = ctx.slots.find(0, BigInt(addr));
    for (let i = 1; i < size; i++) if (ctx.slots.find(0, BigInt(addr + i)) !== first) return true;
    return false;
  }
}

function sameAccess(a: ReadExit, b: ReadExit): boolean {
  if (a.reason === "mmio" && b.reason === "mmio") return a.addr === b.addr && a.data.length === b.data.length;
  if (a.reason === "io" && b.reason === "io") return a.port === b.port && a.size === b.size && a.count === b.count;
  return false;
}
