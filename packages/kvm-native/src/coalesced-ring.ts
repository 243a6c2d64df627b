import { type KvmCoalescedWrite, KvmError } from "@memtopo/kvm";
import type { NativeLayout } from "./binding.js";

/**
 * The kernel's coalesced MMIO ring, a page of a vCPU's mapping at
 * `KVM_CAP_COALESCED_MMIO` pages in: entries from `first` up to `last` are writes the
 * kernel held back. Reading them and moving `first` on is what QEMU's
 * `kvm_flush_coalesced_mmio_buffer` does; the bytes are copied out before `first` moves,
 * so the kernel may reuse the entries at once.
 */
export class CoalescedRing {
  readonly #view: DataView;
  readonly #layout: NativeLayout["coalescedRing"];
  readonly #capacity: number;

  constructor(runBuffer: ArrayBuffer, pageOffset: number, pageSize: number, layout: NativeLayout["coalescedRing"]) {
    this.#view = new DataView(runBuffer, pageOffset * pageSize, pageSize);
    this.#layout = layout;
    // KVM_COALESCED_MMIO_MAX: as many entries as fit the page after the two indexes.
    this.#capacity = Math.floor((pageSize - layout.entries) / layout.entrySize);
  }

  /** Whether the mapping holds the ring page (the kernel maps it when it has KVM_CAP_COALESCED_MMIO). */
  static fits(runBuffer: ArrayBuffer, pageOffset: number, pageSize: number): boolean {
    return pageOffset > 0 && (pageOffset + 1) * pageSize <= runBuffer.byteLength;
  }

  drain(): KvmCoalescedWrite[] {
    const v = this.#view;
    const r = this.#layout;
    let first = v.getUint32(r.first, true);
    const last = v.getUint32(r.last, true);
    if (first >= this.#capacity || last >= this.#capacity) {
      throw new KvmError("EIO", "coalesced MMIO ring", `indexes out of range: first ${first}, last ${last}`);
    }
    const out: KvmCoalescedWrite[] = [];
    while (first !== last) {
      const at = r.entries + first * r.entrySize;
      const len = Math.min(v.getUint32(at + r.len, true), r.dataMax);
      const data = new Uint8Array(len);
      for (let i = 0; i < len; i++) data[i] = v.getUint8(at + r.data + i);
      out.push({ physAddr: v.getBigUint64(at + r.physAddr, true), data, pio: v.getUint32(at + r.pio, true) === 1 });
      first = (first + 1) % this.#capacity;
    }
    v.setUint32(r.first, first, true);
    return out;
  }
}
