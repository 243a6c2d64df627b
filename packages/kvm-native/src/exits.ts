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

/**
 * Decodes exits from one vCPU's kvm_run with the offsets the addon exported.
 *
 * The IO and MMIO cases run on every exit, between two KVM_RUNs with cold caches, so they
 * read offsets from the decoder's own fields (not the addon's layout object), make no
 * bigints but the MMIO address, and reuse the `data` view of the previous exit when it
 * covers the same bytes of kvm_run (a view is only a window: the bytes are kvm_run's).
 */
export class KvmRunDecoder {
  readonly #layout: NativeLayout;
  readonly #buffer: ArrayBuffer;
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

  decode(): VcpuExit {
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
    if (v.getUint32(at + 4, true) !== 0 || offset + bytes > this.#buffer.byteLength) {
      const wide = v.getBigUint64(at, true);
      if (wide + BigInt(bytes) > BigInt(this.#buffer.byteLength)) {
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
    return {
      reason: "io",
      direction: v.getUint8(this.#ioDirection) === this.#ioOut ? "out" : "in",
      port: v.getUint16(this.#ioPort, true),
      size,
      count,
      data,
    };
  }

  #decodeMmio(v: DataView): VcpuExit {
    const len = v.getUint32(this.#mmioLen, true);
    if (len > 8) throw new KvmError("EIO", "KVM_RUN", `mmio.len ${len} exceeds 8`);
    let data = this.#mmioViews[len];
    if (data === undefined) {
      data = new Uint8Array(this.#buffer, this.#mmioData, len);
      this.#mmioViews[len] = data;
    }
    return {
      reason: "mmio",
      addr: v.getBigUint64(this.#mmioPhysAddr, true),
      isWrite: v.getUint8(this.#mmioIsWrite) !== 0,
      data,
    };
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
