import type { KvmMemslot } from "@memtopo/kvm";

/**
 * The kernel's memslots as this VM set them: KVM has no ioctl that lists slots, so every successful
 * KVM_SET_USER_MEMORY_REGION is mirrored here (a size of 0 deletes, any other replaces the slot).
 */
export class MemslotMirror {
  readonly #slots = new Map<number, KvmMemslot>();

  /** Records a call the kernel accepted, with the values that were passed to it. */
  accepted(slot: number, flags: number, guestPhysAddr: bigint, memorySize: bigint, userspaceAddr: bigint): void {
    if (memorySize === 0n) {
      this.#slots.delete(slot);
      return;
    }
    this.#slots.set(slot, {
      slot,
      asId: slot >>> 16,
      id: slot & 0xffff,
      guestPhysAddr,
      memorySize,
      userspaceAddr,
      flags,
    });
  }

  /** Live slots ordered by address space, then guest address; fresh objects the caller may keep. */
  list(): KvmMemslot[] {
    return [...this.#slots.values()]
      .sort((a, b) => a.asId - b.asId || (a.guestPhysAddr < b.guestPhysAddr ? -1 : 1))
      .map((s) => ({ ...s }));
  }

  clear(): void {
    this.#slots.clear();
  }
}
