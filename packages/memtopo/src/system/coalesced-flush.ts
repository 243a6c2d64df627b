import type { AddressSpace } from "./address-space.js";
import { MemorySystemError } from "./errors.js";

/** One write an accelerator held back (the shape of `@memtopo/kvm`'s `KvmCoalescedWrite`). */
export interface CoalescedWrite {
  readonly physAddr: bigint;
  readonly data: Uint8Array;
  readonly pio: boolean;
}

/** Where held-back writes come from and where they go: `attachKvm` passes the kernel's ring. */
export interface CoalescedMmioSource {
  take(): readonly CoalescedWrite[];
  /** MMIO writes replay here (QEMU's `cpu_physical_memory_write`). */
  readonly memory: AddressSpace;
  /** PIO writes replay here (`address_space_io`); with none they are dropped. */
  readonly io: AddressSpace | null;
}

/**
 * `qemu_flush_coalesced_mmio_buffer`: replays every held-back write through the normal
 * write path until the ring is empty. A flush that a replayed write sets off (a device that
 * flushes, a transaction it opens) returns at once, as QEMU's `coalesced_flush_in_progress`
 * makes it. A device failing one write does not stop the others; the first failure is thrown.
 */
export class CoalescedMmioFlush {
  #source: CoalescedMmioSource | null = null;
  #inProgress = false;

  setSource(source: CoalescedMmioSource | null, owns: (as: AddressSpace) => boolean): void {
    if (source !== null) {
      if (typeof source !== "object" || typeof source.take !== "function") {
        throw new MemorySystemError("E_INVALID_ARGUMENT", "a coalesced MMIO source needs a take() function");
      }
      if (!owns(source.memory)) {
        throw new MemorySystemError("E_UNKNOWN_ADDRESS_SPACE", "source.memory is not an address space of this system");
      }
      if (source.io !== null && !owns(source.io)) {
        throw new MemorySystemError("E_UNKNOWN_ADDRESS_SPACE", "source.io is not an address space of this system");
      }
    }
    this.#source = source;
  }

  flush(): void {
    const source = this.#source;
    if (source === null || this.#inProgress) return;
    this.#inProgress = true;
    const failures: unknown[] = [];
    try {
      for (let writes = source.take(); writes.length > 0; writes = source.take()) {
        for (const w of writes) {
          try {
            (w.pio ? source.io : source.memory)?.write(w.physAddr, w.data);
          } catch (error) {
            failures.push(error);
          }
        }
      }
    } finally {
      this.#inProgress = false;
    }
    if (failures.length > 0) throw failures[0];
  }
}
