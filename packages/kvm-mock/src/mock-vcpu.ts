import {
  type CpuidEntry,
  type DebugRegs,
  type Fpu,
  type GuestDebug,
  KVM_GUESTDBG,
  KvmError,
  type KvmVcpu,
  type KvmVcpuState,
  type Lapic,
  type MpState,
  type MsrEntry,
  REG_NAMES,
  type Translation,
  type VcpuEvents,
  type VcpuExit,
  type Xcrs,
  type Xsave,
} from "@memtopo/kvm";
import { IF } from "./cpu/alu.js";
import { EmulationFailure, VcpuExitPending } from "./cpu/bus.js";
import { Interpreter } from "./cpu/interpreter.js";
import { CpuSnapshot, CpuState, type Regs, type Sregs } from "./cpu/state.js";
import { type KernelPio, VcpuBus } from "./cpu/vcpu-bus.js";
import type { GuestContext } from "./guest.js";
import type { MockInterrupts } from "./irq/interrupts.js";
import type { KvmMethod } from "./recorder.js";
import { type CallVcpu, VcpuModel } from "./vcpu-model.js";

/** `KVM_INTERNAL_ERROR_EMULATION`: the suberror of an instruction KVM could not emulate. */
export const KVM_INTERNAL_ERROR_EMULATION = 1;

/** What a mock vCPU needs from its VM. */
export interface VcpuHost {
  readonly guest: () => GuestContext;
  readonly interrupts: MockInterrupts;
  /** The VM's virtual clock in ns, and a way to move it on. */
  now(): number;
  advanceClock(ns: number): void;
  /** Instructions a run() executes without an exit before it returns as if interrupted by a signal. */
  readonly timeslice: number;
  /** Whether the VM had its in-kernel irqchip (and so a LAPIC for this vCPU) when it was made. */
  readonly lapicInKernel: boolean;
  /** Records a vCPU ioctl in the VM's call log. */
  readonly call: CallVcpu;
  /** Eight bytes of guest RAM at a guest-physical address, or null outside RAM. */
  readPhys(gpa: bigint): bigint | null;
  /** Whether this vCPU's dirty ring is at its soft limit (never, without the ring). */
  dirtyRingFull(): boolean;
}

/** Virtual nanoseconds one instruction takes. */
const NS_PER_INSTRUCTION = 1;

/**
 * A vCPU of {@link MockKvm}: a real-mode x86 interpreter that runs guest code from the VM's
 * memslots and stops with the exits KVM_RUN gives (IO, MMIO, HLT, IRQ_WINDOW_OPEN, an
 * internal error for what it cannot emulate). With the in-kernel irqchip, PIC interrupts
 * reach the BSP through the real-mode IVT, and HLT waits for them as the kernel does.
 */
export class MockVcpu implements KvmVcpu, KvmVcpuState {
  readonly id: number;
  readonly #host: VcpuHost;
  readonly #model: VcpuModel;
  readonly #cpu: CpuState;
  readonly #bus: VcpuBus;
  readonly #interpreter: Interpreter;
  readonly #snapshot = new CpuSnapshot();
  /** Exits an instruction made beyond the first, returned by the next run() calls. */
  #queued: VcpuExit[] = [];
  #kicked = false;
  #halted = false;
  #closed = false;
  #requestInterruptWindow = false;
  #ready = true;
  #ifFlag = false;

  /** @internal Created by MockKvm.createVcpu. */
  constructor(id: number, host: VcpuHost) {
    this.id = id;
    this.#host = host;
    this.#model = new VcpuModel(id, host.lapicInKernel, {
      cpu: () => this.#cpu,
      now: () => host.now(),
      readPhys: (gpa) => host.readPhys(gpa),
    });
    this.#cpu = new CpuState(this.#model.apicBase);
    const interrupts = host.interrupts;
    const kernelPio: KernelPio = {
      read: (port, size) => (size === 1 ? interrupts.readPort(port) : undefined),
      write: (port, size, value) => size === 1 && interrupts.writePort(port, value),
    };
    this.#bus = new VcpuBus(host.guest, kernelPio, this.#model);
    this.#interpreter = new Interpreter(this.#cpu, this.#bus, () => this.#cpu.idtBase);
  }

  /** The mock's vCPUs run in the caller's thread; nothing else can kick them from another. */
  readonly kickId = undefined;

  get requestInterruptWindow(): boolean {
    this.#assertOpen("requestInterruptWindow");
    return this.#requestInterruptWindow;
  }

  set requestInterruptWindow(on: boolean) {
    this.#assertOpen("requestInterruptWindow");
    if (typeof on !== "boolean") {
      throw new KvmError("EINVAL", "requestInterruptWindow", `must be a boolean, got ${typeof on}`);
    }
    this.#requestInterruptWindow = on;
  }

  get readyForInterruptInjection(): boolean {
    this.#assertOpen("readyForInterruptInjection");
    return this.#ready;
  }

  get ifFlag(): boolean {
    this.#assertOpen("ifFlag");
    return this.#ifFlag;
  }

  kick(): void {
    this.#assertOpen("kick");
    this.#kicked = true;
  }

  getRegs(): Regs {
    this.#assertOpen("KVM_GET_REGS");
    return this.#cpu.getRegs();
  }

  setRegs(regs: Regs): void {
    this.#assertOpen("KVM_SET_REGS");
    const copy = checkRegs(regs);
    this.#record("vcpu.setRegs", [copy], "KVM_SET_REGS", () => {
      this.#bus.reset();
      this.#cpu.setRegs(copy);
    });
  }

  getSregs(): Sregs {
    this.#assertOpen("KVM_GET_SREGS");
    return this.#cpu.getSregs();
  }

  setSregs(sregs: Sregs): void {
    this.#assertOpen("KVM_SET_SREGS");
    const copy = checkSregs(sregs);
    this.#record("vcpu.setSregs", [copy], "KVM_SET_SREGS", () => {
      this.#bus.reset();
      this.#cpu.setSregs(copy);
    });
  }

  getCpuid2(): CpuidEntry[] {
    return this.#record("vcpu.getCpuid2", [], "KVM_GET_CPUID2", () => this.#model.getCpuid2());
  }

  setCpuid2(entries: readonly CpuidEntry[]): void {
    this.#record("vcpu.setCpuid2", [entries], "KVM_SET_CPUID2", () => this.#model.setCpuid2(entries));
  }

  getMsrs(indices: readonly number[]): MsrEntry[] {
    return this.#record("vcpu.getMsrs", [indices], "KVM_GET_MSRS", () => this.#model.getMsrs(indices));
  }

  setMsrs(entries: readonly MsrEntry[]): number {
    return this.#record("vcpu.setMsrs", [entries], "KVM_SET_MSRS", () => this.#model.setMsrs(entries));
  }

  getFpu(): Fpu {
    this.#assertOpen("KVM_GET_FPU");
    return this.#model.getFpu();
  }

  setFpu(fpu: Fpu): void {
    this.#record("vcpu.setFpu", [fpu], "KVM_SET_FPU", () => this.#model.setFpu(fpu));
  }

  getXsave(): Xsave {
    this.#assertOpen("KVM_GET_XSAVE");
    return this.#model.getXsave();
  }

  setXsave(xsave: Xsave): void {
    this.#record("vcpu.setXsave", [xsave], "KVM_SET_XSAVE", () => this.#model.setXsave(xsave));
  }

  getXcrs(): Xcrs {
    this.#assertOpen("KVM_GET_XCRS");
    return this.#model.getXcrs();
  }

  setXcrs(xcrs: Xcrs): void {
    this.#record("vcpu.setXcrs", [xcrs], "KVM_SET_XCRS", () => this.#model.setXcrs(xcrs));
  }

  getLapic(): Lapic {
    return this.#record("vcpu.getLapic", [], "KVM_GET_LAPIC", () => this.#model.getLapic());
  }

  setLapic(lapic: Lapic): void {
    this.#record("vcpu.setLapic", [lapic], "KVM_SET_LAPIC", () => this.#model.setLapic(lapic));
  }

  getVcpuEvents(): VcpuEvents {
    this.#assertOpen("KVM_GET_VCPU_EVENTS");
    return this.#model.getVcpuEvents(this.#cpu.interruptShadow);
  }

  setVcpuEvents(events: VcpuEvents): void {
    this.#record("vcpu.setVcpuEvents", [events], "KVM_SET_VCPU_EVENTS", () => {
      const shadow = this.#model.setVcpuEvents(events);
      if (shadow !== null) this.#cpu.interruptShadow = shadow;
    });
  }

  getMpState(): MpState {
    this.#assertOpen("KVM_GET_MP_STATE");
    return this.#halted ? "halted" : this.#model.mpState;
  }

  setMpState(state: MpState): void {
    this.#record("vcpu.setMpState", [state], "KVM_SET_MP_STATE", () => {
      this.#model.setMpState(state);
      // HALTED is the interpreter's own flag: the model keeps the other states.
      this.#halted = this.#model.mpState === "halted";
      if (this.#halted) this.#model.mpState = "runnable";
    });
  }

  getDebugRegs(): DebugRegs {
    this.#assertOpen("KVM_GET_DEBUGREGS");
    return this.#model.getDebugRegs();
  }

  setDebugRegs(debugRegs: DebugRegs): void {
    this.#record("vcpu.setDebugRegs", [debugRegs], "KVM_SET_DEBUGREGS", () => this.#model.setDebugRegs(debugRegs));
  }

  setGuestDebug(debug: GuestDebug): void {
    this.#record("vcpu.setGuestDebug", [debug], "KVM_SET_GUEST_DEBUG", () => this.#model.setGuestDebug(debug));
  }

  translate(linearAddress: bigint): Translation {
    return this.#record("vcpu.translate", [linearAddress], "KVM_TRANSLATE", () => this.#model.translate(linearAddress));
  }

  /** Records a vCPU ioctl (this vCPU's id first in its arguments); EBADF once closed. */
  #record<T>(method: KvmMethod, args: readonly unknown[], operation: string, body: () => T): T {
    return this.#host.call(method, [this.id, ...args], operation, () => {
      this.#assertOpen(operation);
      return body();
    });
  }

  run(): VcpuExit {
    this.#assertOpen("KVM_RUN");
    const exit = this.#run();
    this.#ifFlag = (this.#cpu.eflags & IF) !== 0;
    this.#ready = this.#host.interrupts.hasIrqchip || (this.#ifFlag && !this.#cpu.interruptShadow);
    return exit;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Injects `vector` now, the real-mode way (the IVT entry, FLAGS/CS/IP pushed). Used for
   * KVM_INTERRUPT and for exceptions set through vCPU events.
   */
  deliver(vector: number): VcpuExit | null {
    this.#snapshot.save(this.#cpu);
    try {
      this.#interpreter.interrupt(vector);
    } catch (error) {
      this.#snapshot.restore(this.#cpu);
      this.#bus.reset();
      if (error instanceof VcpuExitPending) {
        return emulationFailure([BigInt(vector)]);
      }
      throw error;
    }
    this.#halted = false;
    const exits = this.#bus.commit();
    this.#queued.push(...exits);
    return null;
  }

  #run(): VcpuExit {
    const queued = this.#queued.shift();
    if (queued !== undefined) return queued;
    if (this.#kicked) {
      this.#kicked = false;
      return { reason: "intr" };
    }
    // An application processor waits for INIT/SIPI, which the mock does not send: it cannot start.
    if (this.#model.mpState !== "runnable") return { reason: "intr" };
    // kvm_dirty_ring_check_request: a vCPU whose ring reached its soft limit does not enter the guest.
    if (this.#host.dirtyRingFull()) return { reason: "dirty-ring-full" };
    if ((this.#cpu.cr0 & 1n) !== 0n) {
      return emulationFailure([this.#cpu.cr0]);
    }
    this.#model.hasRun = true;
    const interrupts = this.#host.interrupts;
    const injection = this.#model.takeInjection();
    if (injection !== null) {
      const failed = this.deliver(injection.vector);
      if (failed !== null) return failed;
      const first = this.#queued.shift();
      if (first !== undefined) return first;
    }
    const debug = this.#model.guestDebug.control;
    const singleStep =
      (debug & (KVM_GUESTDBG.ENABLE | KVM_GUESTDBG.SINGLESTEP)) === (KVM_GUESTDBG.ENABLE | KVM_GUESTDBG.SINGLESTEP);
    for (let i = 0; i < this.#host.timeslice; i++) {
      interrupts.advance(this.#host.now());
      const canTake = (this.#cpu.eflags & IF) !== 0 && !this.#cpu.interruptShadow;
      if (canTake && interrupts.extIntPending(this.id) && this.#model.acceptsPicInterrupt()) {
        const failed = this.deliver(interrupts.acknowledgeExtInt());
        if (failed !== null) return failed;
        const first = this.#queued.shift();
        if (first !== undefined) return first;
      } else if (canTake && this.#requestInterruptWindow && !interrupts.hasIrqchip) {
        return { reason: "irq-window-open" };
      }
      if (this.#halted) {
        if (!interrupts.hasIrqchip) this.#halted = false;
        else {
          // The kernel blocks a halted vCPU until an interrupt: the mock skips to the next timer tick.
          const deadline = interrupts.nextDeadline;
          if (deadline === null || !canTake) return { reason: "intr" };
          if (deadline > this.#host.now()) this.#host.advanceClock(deadline - this.#host.now());
          continue;
        }
      }
      const exit = this.#step();
      if (exit !== null) return exit;
      if (singleStep) return this.#debugExit(1);
      // The store that filled the ring to its soft limit requested the exit. On /dev/kvm the store has not retired
      // then (its fault pushed the entry) and runs again after the reset, pushing its page a second time; the
      // mock retires it and exits before the next instruction: the same pages, one entry fewer.
      if (this.#host.dirtyRingFull()) return { reason: "dirty-ring-full" };
    }
    // KVM_RUN interrupted by a signal, as a host timer would after a long time in the guest.
    return { reason: "intr" };
  }

  /** One instruction; the exit it ends the run with, or null to go on. */
  #step(): VcpuExit | null {
    const cpu = this.#cpu;
    this.#snapshot.save(cpu);
    let result: "ok" | "hlt";
    try {
      result = this.#interpreter.step();
    } catch (error) {
      this.#snapshot.restore(cpu);
      if (error instanceof VcpuExitPending) return this.#bus.abort();
      this.#bus.reset();
      if (error instanceof EmulationFailure) return emulationFailure(error.bytes.map((b) => BigInt(b)));
      throw error;
    }
    this.#host.advanceClock(NS_PER_INSTRUCTION);
    const exits = this.#bus.commit();
    if (result === "hlt") {
      if (!this.#host.interrupts.hasIrqchip) return { reason: "hlt" };
      this.#halted = true;
    }
    const first = exits.shift();
    if (first === undefined) return null;
    this.#queued.push(...exits);
    return first;
  }

  /** A KVM_EXIT_DEBUG after the instruction that just completed (single-step: #DB, vector 1). */
  #debugExit(exception: number): VcpuExit {
    const regs = this.#model.getDebugRegs();
    return {
      reason: "debug",
      exception,
      pc: BigInt(this.#cpu.base[1]! + this.#cpu.eip),
      dr6: regs.dr6 | 0x4000n, // BS: single step
      dr7: regs.dr7,
    };
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new KvmError("EBADF", operation, "the vCPU is closed");
  }
}

function emulationFailure(data: bigint[]): VcpuExit {
  return { reason: "internal-error", suberror: KVM_INTERNAL_ERROR_EMULATION, data };
}

function checkSregs(sregs: Sregs): Sregs {
  if (typeof sregs !== "object" || sregs === null)
    throw new KvmError("EINVAL", "KVM_SET_SREGS", "sregs must be an object");
  for (const name of ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"] as const) {
    const seg = sregs[name];
    if (typeof seg !== "object" || seg === null || typeof seg.base !== "bigint" || !Number.isInteger(seg.selector)) {
      throw new KvmError("EINVAL", "KVM_SET_SREGS", `sregs.${name} must be a segment`);
    }
  }
  for (const name of ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apicBase"] as const) {
    const v = sregs[name];
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) {
      throw new KvmError("EINVAL", "KVM_SET_SREGS", `sregs.${name} must be a bigint in [0, 2^64)`);
    }
  }
  if (!(sregs.interruptBitmap instanceof Uint8Array) || sregs.interruptBitmap.length !== 32) {
    throw new KvmError("EINVAL", "KVM_SET_SREGS", "sregs.interruptBitmap must be 32 bytes");
  }
  return sregs;
}

function checkRegs(regs: Regs): Regs {
  if (typeof regs !== "object" || regs === null) throw new KvmError("EINVAL", "KVM_SET_REGS", "regs must be an object");
  const copy = {} as Regs;
  for (const name of REG_NAMES) {
    const v = regs[name];
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) {
      throw new KvmError("EINVAL", "KVM_SET_REGS", `regs.${name} must be a bigint in [0, 2^64)`);
    }
    copy[name] = v;
  }
  return copy;
}
