import { KvmError } from "@memtopo/kvm";
import type { NativeLayout } from "./binding.js";

/** A KVM_RUN exit, decoded from the mmapped kvm_run. `data` arrays are views into kvm_run itself. */
export type VcpuExit =
  | {
      readonly reason: "io";
      readonly direction: "in" | "out";
      readonly port: number;
      /** Bytes per element (1, 2 or 4). */
      readonly size: number;
      /** Elements (more than 1 for rep ins/outs). */
      readonly count: number;
      /** size * count bytes: filled by the handler for "in", read by it for "out". */
      readonly data: Uint8Array;
    }
  | {
      readonly reason: "mmio";
      readonly addr: bigint;
      readonly isWrite: boolean;
      /** len bytes: filled by the handler for reads, read by it for writes. */
      readonly data: Uint8Array;
    }
  | { readonly reason: "hlt" }
  | { readonly reason: "shutdown" }
  /** KVM_RUN returned early because of kick(). */
  | { readonly reason: "intr" }
  | { readonly reason: "fail-entry"; readonly hardwareEntryFailureReason: bigint; readonly cpu: number }
  | { readonly reason: "internal-error"; readonly suberror: number; readonly data: readonly bigint[] }
  | { readonly reason: "unknown"; readonly hardwareExitReason: bigint }
  | { readonly reason: "other"; readonly exitReason: number };

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
      default:
        return { reason: "other", exitReason: reason };
    }
  }
}
