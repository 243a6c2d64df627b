import { KvmError, type MsrExitReason, type SystemEventType, type VcpuExit } from "@memtopo/kvm";
import type { NativeLayout } from "./binding.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type IoExit = Mutable<Extract<VcpuExit, { reason: "io" }>>;
type MmioExit = Mutable<Extract<VcpuExit, { reason: "mmio" }>>;

/**
 * Decodes exits from one vCPU's kvm_run with the offsets the addon exported.
 *
 * The IO and MMIO cases run on every exit, between two KVM_RUNs with cold caches, where
 * every fresh allocation is a cache miss of its own (measured: about 0.05 µs an exit on
 * this machine kind). So they read offsets from the decoder's own fields (not the addon's
 * layout object), and {@link decodeInPlace} fills the decoder's own exit objects, reusing
 * the `data` view when it covers the same bytes of kvm_run and the MMIO address bigint
 * when the guest hits the same address again.
 */
export class KvmRunDecoder {
  readonly #layout: NativeLayout;
  readonly #buffer: ArrayBuffer;
  /** kvm_run's length: an ArrayBuffer's byteLength is a runtime call, and this one never changes. */
  readonly #bufferLength: number;
  readonly #view: DataView;
  readonly #exitReason: number;
  readonly #ioDirection: number;
  readonly #ioSize: number;
  readonly #ioPort: number;
  readonly #ioCount: number;
  readonly #ioDataOffset: number;
  readonly #mmioPhysAddr: number;
  readonly #mmioData: number;
  readonly #mmioLen: number;
  readonly #mmioIsWrite: number;
  readonly #exitIo: number;
  readonly #exitMmio: number;
  readonly #ioOut: number;
  /** The last IO exit's data view, its offset and length. */
  #ioData: Uint8Array | undefined;
  #ioDataAt = -1;
  #ioDataLen = -1;
  readonly #io: IoExit = { reason: "io", direction: "out", port: 0, size: 0, count: 0, data: new Uint8Array(0) };
  readonly #mmio: MmioExit = { reason: "mmio", addr: 0n, isWrite: false, data: new Uint8Array(0) };
  #msrData: BigUint64Array | undefined;
  #msrError: Uint8Array | undefined;
  /** The halves of the last MMIO address, whose bigint #mmio.addr still holds (-1: none yet). */
  #mmioLow = -1;
  #mmioHigh = -1;
  /** MMIO data views by length (0..8), made on first use. */
  readonly #mmioViews: (Uint8Array | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];

  constructor(layout: NativeLayout, runBuffer: ArrayBuffer) {
    this.#layout = layout;
    this.#buffer = runBuffer;
    this.#bufferLength = runBuffer.byteLength;
    this.#view = new DataView(runBuffer);
    const run = layout.run;
    this.#exitReason = run.exitReason;
    this.#ioDirection = run.ioDirection;
    this.#ioSize = run.ioSize;
    this.#ioPort = run.ioPort;
    this.#ioCount = run.ioCount;
    this.#ioDataOffset = run.ioDataOffset;
    this.#mmioPhysAddr = run.mmioPhysAddr;
    this.#mmioData = run.mmioData;
    this.#mmioLen = run.mmioLen;
    this.#mmioIsWrite = run.mmioIsWrite;
    this.#exitIo = layout.exits.IO;
    this.#exitMmio = layout.exits.MMIO;
    this.#ioOut = layout.exits.IO_OUT;
  }

  get exitReason(): number {
    return this.#view.getUint32(this.#exitReason, true);
  }

  /** kvm_run.request_interrupt_window (user space to kernel: read at the next KVM_RUN). */
  get requestInterruptWindow(): boolean {
    return this.#view.getUint8(this.#layout.run.requestInterruptWindow) !== 0;
  }

  set requestInterruptWindow(on: boolean) {
    this.#view.setUint8(this.#layout.run.requestInterruptWindow, on ? 1 : 0);
  }

  /** kvm_run.ready_for_interrupt_injection, as the last KVM_RUN left it. */
  get readyForInterruptInjection(): boolean {
    return this.#view.getUint8(this.#layout.run.readyForInterruptInjection) !== 0;
  }

  /** kvm_run.if_flag, as the last KVM_RUN left it. */
  get ifFlag(): boolean {
    return this.#view.getUint8(this.#layout.run.ifFlag) !== 0;
  }

  /** The exit in kvm_run now, as an object of its own that later exits leave alone (its `data` is still kvm_run's). */
  decode(): VcpuExit {
    const exit = this.decodeInPlace();
    return exit.reason === "io" || exit.reason === "mmio" ? { ...exit } : exit;
  }

  /**
   * The exit in kvm_run now, without allocating for IO and MMIO exits: those come back in the
   * decoder's own two objects, which the next decode overwrites, as the next KVM_RUN
   * overwrites kvm_run (rust-vmm's `VcpuExit` borrows kvm_run the same way). Copy what you
   * keep; {@link decode} does.
   */
  decodeInPlace(): VcpuExit {
    const v = this.#view;
    const reason = v.getUint32(this.#exitReason, true);
    if (reason === this.#exitIo) return this.#decodeIo(v);
    if (reason === this.#exitMmio) return this.#decodeMmio(v);
    return this.#decodeOther(reason);
  }

  #decodeIo(v: DataView): VcpuExit {
    const size = v.getUint8(this.#ioSize);
    const count = v.getUint32(this.#ioCount, true);
    const bytes = size * count;
    // io.data_offset is a u64: read as two u32 halves, so that no bigint is made for it.
    const at = this.#ioDataOffset;
    let offset = v.getUint32(at, true);
    if (v.getUint32(at + 4, true) !== 0 || offset + bytes > this.#bufferLength) {
      const wide = v.getBigUint64(at, true);
      if (wide + BigInt(bytes) > BigInt(this.#bufferLength)) {
        throw new KvmError("EIO", "KVM_RUN", `io data at ${wide}+${bytes} lies outside kvm_run`);
      }
      offset = Number(wide);
    }
    let data = this.#ioData;
    if (data === undefined || this.#ioDataAt !== offset || this.#ioDataLen !== bytes) {
      data = new Uint8Array(this.#buffer, offset, bytes);
      this.#ioData = data;
      this.#ioDataAt = offset;
      this.#ioDataLen = bytes;
    }
    const exit = this.#io;
    exit.direction = v.getUint8(this.#ioDirection) === this.#ioOut ? "out" : "in";
    exit.port = v.getUint16(this.#ioPort, true);
    exit.size = size;
    exit.count = count;
    exit.data = data;
    return exit;
  }

  #decodeMmio(v: DataView): VcpuExit {
    const len = v.getUint32(this.#mmioLen, true);
    if (len > 8) throw new KvmError("EIO", "KVM_RUN", `mmio.len ${len} exceeds 8`);
    let data = this.#mmioViews[len];
    if (data === undefined) {
      data = new Uint8Array(this.#buffer, this.#mmioData, len);
      this.#mmioViews[len] = data;
    }
    const exit = this.#mmio;
    const at = this.#mmioPhysAddr;
    const low = v.getUint32(at, true);
    const high = v.getUint32(at + 4, true);
    if (low !== this.#mmioLow || high !== this.#mmioHigh) {
      exit.addr = v.getBigUint64(at, true);
      this.#mmioLow = low;
      this.#mmioHigh = high;
    }
    exit.isWrite = v.getUint8(this.#mmioIsWrite) !== 0;
    exit.data = data;
    return exit;
  }

  #decodeOther(reason: number): VcpuExit {
    const run = this.#layout.run;
    const exits = this.#layout.exits;
    const v = this.#view;
    switch (reason) {
      case exits.HLT:
        return { reason: "hlt" };
      case exits.SHUTDOWN:
        return { reason: "shutdown" };
      case exits.INTR:
        return { reason: "intr" };
      case exits.FAIL_ENTRY:
        return {
          reason: "fail-entry",
          hardwareEntryFailureReason: v.getBigUint64(run.failEntryReason, true),
          cpu: v.getUint32(run.failEntryCpu, true),
        };
      case exits.INTERNAL_ERROR: {
        const ndata = Math.min(v.getUint32(run.internalNdata, true), run.internalDataMax);
        const data: bigint[] = [];
        for (let i = 0; i < ndata; i++) data.push(v.getBigUint64(run.internalData + 8 * i, true));
        return { reason: "internal-error", suberror: v.getUint32(run.internalSuberror, true), data };
      }
      case exits.UNKNOWN:
        return { reason: "unknown", hardwareExitReason: v.getBigUint64(run.hwExitReason, true) };
      case exits.SYSTEM_EVENT: {
        const typeCode = v.getUint32(run.systemEventType, true);
        const ndata = Math.min(v.getUint32(run.systemEventNdata, true), run.systemEventDataMax);
        const data: bigint[] = [];
        for (let i = 0; i < ndata; i++) data.push(v.getBigUint64(run.systemEventData + 8 * i, true));
        return { reason: "system-event", type: this.#systemEventType(typeCode), typeCode, data };
      }
      case exits.IRQ_WINDOW_OPEN:
        return { reason: "irq-window-open" };
      case exits.DEBUG:
        return {
          reason: "debug",
          exception: v.getUint32(run.debugException, true),
          pc: v.getBigUint64(run.debugPc, true),
          dr6: v.getBigUint64(run.debugDr6, true),
          dr7: v.getBigUint64(run.debugDr7, true),
        };
      case exits.X86_RDMSR:
      case exits.X86_WRMSR:
        return this.#decodeMsr(reason === exits.X86_RDMSR ? "x86-rdmsr" : "x86-wrmsr");
      case exits.DIRTY_RING_FULL:
        return { reason: "dirty-ring-full" };
      default:
        return { reason: "other", exitReason: reason };
    }
  }

  #systemEventType(code: number): SystemEventType {
    const exits = this.#layout.exits;
    switch (code) {
      case exits.SYSTEM_EVENT_SHUTDOWN:
        return "shutdown";
      case exits.SYSTEM_EVENT_RESET:
        return "reset";
      case exits.SYSTEM_EVENT_CRASH:
        return "crash";
      case exits.SYSTEM_EVENT_WAKEUP:
        return "wakeup";
      case exits.SYSTEM_EVENT_SUSPEND:
        return "suspend";
      case exits.SYSTEM_EVENT_SEV_TERM:
        return "sev-term";
      default:
        return "unknown";
    }
  }

  /**
   * An MSR exit. `data` and `error` are views of kvm_run.msr, where the kernel reads the
   * handler's answer at the next KVM_RUN (rdmsr's value, or a non-zero error for #GP).
   */
  #decodeMsr(reason: "x86-rdmsr" | "x86-wrmsr"): VcpuExit {
    const { run, exits } = this.#layout;
    const v = this.#view;
    const code = v.getUint32(run.msrReason, true);
    let msrReason: MsrExitReason;
    if (code === exits.MSR_EXIT_REASON_INVAL) msrReason = "invalid";
    else if (code === exits.MSR_EXIT_REASON_UNKNOWN) msrReason = "unknown";
    else if (code === exits.MSR_EXIT_REASON_FILTER) msrReason = "filter";
    else throw new KvmError("EIO", "KVM_RUN", `msr.reason ${code} is none of KVM_MSR_EXIT_REASON_*`);
    // Made once: kvm_run.msr sits at fixed offsets, so the views never change.
    this.#msrData ??= new BigUint64Array(this.#buffer, run.msrData, 1);
    this.#msrError ??= new Uint8Array(this.#buffer, run.msrError, 1);
    return { reason, msrReason, index: v.getUint32(run.msrIndex, true), data: this.#msrData, error: this.#msrError };
  }
}
