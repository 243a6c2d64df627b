import {
  type CpuidEntry,
  type DebugRegs,
  type Fpu,
  type GuestDebug,
  KvmError,
  type KvmVcpu,
  type KvmVcpuState,
  type Lapic,
  type MpState,
  type MsrEntry,
  type Translation,
  type VcpuEvents,
  type VcpuExit,
  type Xcrs,
  type Xsave,
} from "@memtopo/kvm";
import type { NativeLayout, NativeVcpu } from "./binding.js";
import { native, toKvmError } from "./errors.js";
import { KvmRunDecoder } from "./exits.js";
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, type Regs, type Sregs } from "./regs.js";
import { VcpuStateAccess } from "./vcpu-state/access.js";

/** Names a vCPU handed over by {@link Vcpu.transfer}, until one thread adopts it (`adoptVcpu`). */
export type VcpuShareToken = number;

/** A vCPU of a {@link NativeKvm}. Run it in the thread that owns its device models. */
export class Vcpu implements KvmVcpu, KvmVcpuState {
  readonly id: number;
  readonly #native: NativeVcpu;
  readonly #layout: NativeLayout;
  readonly #decoder: KvmRunDecoder;
  readonly #state: VcpuStateAccess;
  /** The addon's run() as a plain function (made at the first run): it runs once per exit. */
  #run: (() => void) | undefined;
  readonly #onClose: () => void;
  #closed = false;

  /** @internal Created by NativeKvm.createVcpu. */
  constructor(id: number, nativeVcpu: NativeVcpu, layout: NativeLayout, onClose: () => void) {
    this.id = id;
    this.#native = nativeVcpu;
    this.#layout = layout;
    this.#decoder = new KvmRunDecoder(
      layout,
      native("mmap kvm_run", () => nativeVcpu.runBuffer()),
    );
    this.#onClose = onClose;
    this.#state = new VcpuStateAccess(nativeVcpu, layout.vcpuState);
  }

  /** One KVM_RUN (signals are retried), then the exit it ended with. */
  run(): VcpuExit {
    this.#enter();
    return this.#decoder.decode();
  }

  /**
   * run() without an allocation per IO or MMIO exit: the exit object is this vCPU's own and
   * the next run overwrites it, as it overwrites kvm_run (see {@link KvmRunDecoder.decodeInPlace}).
   * `runVcpu` uses it.
   */
  runInPlace(): VcpuExit {
    this.#enter();
    return this.#decoder.decodeInPlace();
  }

  #enter(): void {
    // What native() does, without a closure: this runs once per exit.
    try {
      this.#run ??= this.#native.runner();
      this.#run();
    } catch (error) {
      throw toKvmError(error, "KVM_RUN");
    }
  }

  /**
   * Makes the next run() return at once with an "intr" exit (kvm_run.immediate_exit), e.g. from a device
   * handler that wants the run loop to stop; the guest state is untouched.
   */
  kick(): void {
    native("kick", () => this.#native.kick());
  }

  /**
   * A number that names this vCPU in every thread of the process: post it to another
   * thread, which can then stop a run() blocked in KVM_RUN with {@link kickVcpu}.
   */
  get kickId(): number {
    return native("kickId", () => this.#native.kickId());
  }

  /** kvm_run.request_interrupt_window: true asks KVM_RUN for an "irq-window-open" exit. */
  get requestInterruptWindow(): boolean {
    return this.#openRun("requestInterruptWindow").requestInterruptWindow;
  }

  set requestInterruptWindow(on: boolean) {
    const decoder = this.#openRun("requestInterruptWindow");
    if (typeof on !== "boolean") {
      throw new KvmError("EINVAL", "requestInterruptWindow", `must be a boolean, got ${typeof on}`);
    }
    decoder.requestInterruptWindow = on;
  }

  /** kvm_run.ready_for_interrupt_injection after the last run(). */
  get readyForInterruptInjection(): boolean {
    return this.#openRun("readyForInterruptInjection").readyForInterruptInjection;
  }

  /** kvm_run.if_flag after the last run(). */
  get ifFlag(): boolean {
    return this.#openRun("ifFlag").ifFlag;
  }

  /** kvm_run's decoder, once close() has not unmapped it. */
  #openRun(op: string): KvmRunDecoder {
    if (this.#closed) throw new KvmError("EBADF", op, "the vCPU is closed");
    return this.#decoder;
  }

  getRegs(): Regs {
    return decodeRegs(
      this.#layout,
      native("KVM_GET_REGS", () => this.#native.getRegs()),
    );
  }

  setRegs(regs: Regs): void {
    const bytes = encodeRegs(this.#layout, regs);
    native("KVM_SET_REGS", () => this.#native.setRegs(bytes));
  }

  getSregs(): Sregs {
    return decodeSregs(
      this.#layout,
      native("KVM_GET_SREGS", () => this.#native.getSregs()),
    );
  }

  setSregs(sregs: Sregs): void {
    const bytes = encodeSregs(this.#layout, sregs);
    native("KVM_SET_SREGS", () => this.#native.setSregs(bytes));
  }

  // The rest of the typed state (KvmVcpuState), each one ioctl: see VcpuStateAccess.
  getCpuid2(): CpuidEntry[] {
    return this.#state.getCpuid2();
  }
  setCpuid2(entries: readonly CpuidEntry[]): void {
    this.#state.setCpuid2(entries);
  }
  getMsrs(indices: readonly number[]): MsrEntry[] {
    return this.#state.getMsrs(indices);
  }
  setMsrs(entries: readonly MsrEntry[]): number {
    return this.#state.setMsrs(entries);
  }
  getFpu(): Fpu {
    return this.#state.getFpu();
  }
  setFpu(fpu: Fpu): void {
    this.#state.setFpu(fpu);
  }
  getXsave(): Xsave {
    return this.#state.getXsave();
  }
  setXsave(xsave: Xsave): void {
    this.#state.setXsave(xsave);
  }
  getXcrs(): Xcrs {
    return this.#state.getXcrs();
  }
  setXcrs(xcrs: Xcrs): void {
    this.#state.setXcrs(xcrs);
  }
  getLapic(): Lapic {
    return this.#state.getLapic();
  }
  setLapic(lapic: Lapic): void {
    this.#state.setLapic(lapic);
  }
  getVcpuEvents(): VcpuEvents {
    return this.#state.getVcpuEvents();
  }
  setVcpuEvents(events: VcpuEvents): void {
    this.#state.setVcpuEvents(events);
  }
  getMpState(): MpState {
    return this.#state.getMpState();
  }
  setMpState(state: MpState): void {
    this.#state.setMpState(state);
  }
  getDebugRegs(): DebugRegs {
    return this.#state.getDebugRegs();
  }
  setDebugRegs(debugRegs: DebugRegs): void {
    this.#state.setDebugRegs(debugRegs);
  }
  setGuestDebug(debug: GuestDebug): void {
    this.#state.setGuestDebug(debug);
  }
  translate(linearAddress: bigint): Translation {
    return this.#state.translate(linearAddress);
  }

  /**
   * The benchmark baseline: a C loop in the addon runs until `maxExits` IO/MMIO
   * exits (reads answer 0) or any other exit. Returns the number of exits handled.
   */
  benchExitLoop(maxExits: number): number {
    return native("benchExitLoop", () => this.#native.benchExitLoop(maxExits))[0];
  }

  /**
   * Hands this vCPU to another thread: returns a token to post there, where
   * `adoptVcpu(token)` gives a Vcpu of that thread. This object is closed from now on
   * (EBADF), as if close() had been called, but the vCPU lives on.
   */
  transfer(): VcpuShareToken {
    if (this.#closed) throw new KvmError("EBADF", "transfer", "the vCPU is closed");
    const token = native("transfer", () => this.#native.transfer());
    this.#closed = true;
    this.#onClose();
    return token;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    this.#onClose();
  }
}
