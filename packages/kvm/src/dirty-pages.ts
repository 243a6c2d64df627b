import type { MemoryRegion } from "@memtopo/region-tree";
import type { KvmBackend } from "./backend.js";
import { KvmError } from "./errors.js";

/** What a harvest needs of a slot. */
export interface HarvestedSlot {
  /** The kernel's slot number (KVM address space id in bits 16 and up). */
  readonly kernelId: number;
  readonly size: bigint;
  readonly mr: MemoryRegion;
  readonly offsetInRegion: bigint;
}

/**
 * Dirty pages read from the kernel, per region, as byte offsets of pages in its RAM block:
 * `kvm_slot_get_dirty_log` + `kvm_slot_sync_dirty_pages`, kept until the owner takes them.
 */
export class DirtyPages {
  readonly #backend: KvmBackend;
  readonly #page: bigint;
  readonly #pages = new Map<MemoryRegion, Set<bigint>>();

  constructor(backend: KvmBackend, page: bigint) {
    this.#backend = backend;
    this.#page = page;
  }

  /** Pages dirtied in `mr` since the last call, sorted, and forgotten. */
  take(mr: MemoryRegion): bigint[] {
    const pages = this.#pages.get(mr);
    this.#pages.delete(mr);
    return pages === undefined ? [] : [...pages].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Reads the slot's bitmap; a failure other than "no bitmap" goes to `failures`. */
  harvest(slot: HarvestedSlot, failures: unknown[]): void {
    let bitmap: Uint8Array;
    try {
      bitmap = this.#backend.getDirtyLog(slot.kernelId);
    } catch (error) {
      // ENOENT: the kernel keeps no bitmap for this slot, which QEMU treats as nothing dirty.
      if (!(error instanceof KvmError && error.code === "ENOENT")) failures.push(error);
      return;
    }
    const pages = this.#pages.get(slot.mr) ?? new Set<bigint>();
    for (let byte = 0; byte < bitmap.length; byte++) {
      const bits = bitmap[byte]!;
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if ((bits & (1 << bit)) === 0) continue;
        const page = BigInt(byte * 8 + bit) * this.#page;
        if (page < slot.size) pages.add(slot.offsetInRegion + page);
      }
    }
    if (pages.size > 0) this.#pages.set(slot.mr, pages);
  }
}
