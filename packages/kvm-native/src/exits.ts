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

/** Decodes exits from one vCPU's kvm_run with the offsets the addon exported. */
export class KvmRunDecoder {
  readonly #layout: NativeLayout;
  readonly #buffer: ArrayBuffer;
  readonly #view: DataView;

  constructor(layout: NativeLayout, runBuffer: ArrayBuffer) {
    this.#layout = layout;
    this.#buffer = runBuffer;
    this.#view = new DataView(runBuffer);
  }

  get exitReason(): number {
    return this.#view.getUint32(this.#layout.run.exitReason, true);
  }

  decode(): VcpuExit {
    const run = this.#layout.run;
    const exits = this.#layout.exits;
    const v = this.#view;
    const reason = this.exitReason;
    switch (reason) {
      case exits.IO: {
        const size = v.getUint8(run.ioSize);
        const count = v.getUint32(run.ioCount, true);
        const offset = v.getBigUint64(run.ioDataOffset, true);
        const bytes = size * count;
        if (offset + BigInt(bytes) > BigInt(this.#buffer.byteLength)) {
          throw new KvmError("EIO", "KVM_RUN", `io data at ${offset}+${bytes} lies outside kvm_run`);
        }
        return {
          reason: "io",
          direction: v.getUint8(run.ioDirection) === exits.IO_OUT ? "out" : "in",
          port: v.getUint16(run.ioPort, true),
          size,
          count,
          data: new Uint8Array(this.#buffer, Number(offset), bytes),
        };
      }
      case exits.MMIO: {
        const len = v.getUint32(run.mmioLen, true);
        if (len > 8) throw new KvmError("EIO", "KVM_RUN", `mmio.len ${len} exceeds 8`);
        return {
          reason: "mmio",
          addr: v.getBigUint64(run.mmioPhysAddr, true),
          isWrite: v.getUint8(run.mmioIsWrite) !== 0,
          data: new Uint8Array(this.#buffer, run.mmioData, len),
        };
      }
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
