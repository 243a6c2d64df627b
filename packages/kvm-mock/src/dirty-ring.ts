import { KVM_DIRTY_GFN_F_DIRTY, KVM_DIRTY_GFN_F_RESET, KVM_DIRTY_GFN_SIZE, type KvmDirtyGfn } from "@memtopo/kvm";
import { kernelError } from "./errors.js";
import type { MemslotTable, SlotState } from "./memslots.js";

/** KVM_DIRTY_RING_MAX_ENTRIES: what KVM_CHECK_EXTENSION(KVM_CAP_DIRTY_LOG_RING) reports, in bytes. */
export const DIRTY_RING_MAX_BYTES = 65536 * KVM_DIRTY_GFN_SIZE;
/** KVM_DIRTY_RING_RSVD_ENTRIES (x86 without PML): room kept so that a vCPU can always exit. */
export const DIRTY_RING_RSVD_ENTRIES = 64;

/** One `struct kvm_dirty_gfn` slot of a ring. */
interface Gfn {
  flags: number;
  slot: number;
  offset: number;
}

/** One vCPU's ring: the kernel's `dirty_index`/`reset_index` and userspace's fetch index. */
interface Ring {
  readonly gfns: Gfn[];
  dirtyIndex: number;
  resetIndex: number;
  fetchIndex: number;
}

/**
 * The kernel's dirty rings (`virt/kvm/dirty_ring.c`, 6.1): enabled once, before any vCPU,
 * with a power-of-two byte size; each vCPU then gets a ring of `size / 16` entries. A first
 * write to a write-protected page of a logging slot pushes (slot, offset) with flag DIRTY;
 * userspace collects entries by setting RESET; KVM_RESET_DIRTY_RINGS frees collected
 * entries in order and write-protects their pages again. The entries as userspace reads
 * them are part of this model too ({@link reap}), as the mmap'd ring is on /dev/kvm.
 */
export class MockDirtyRings {
  #bytes = 0;
  readonly #rings = new Map<number, Ring>();

  get bytes(): number {
    return this.#bytes;
  }

  /** KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, bytes): `kvm_vm_ioctl_enable_dirty_log_ring`. */
  enable(bytes: number, createdVcpus: number, pageSize: number): void {
    const op = "KVM_ENABLE_CAP";
    if (bytes === 0 || (bytes & (bytes - 1)) !== 0) {
      throw kernelError("EINVAL", op, `dirty ring size ${bytes} is not a power of two`);
    }
    if (bytes < DIRTY_RING_RSVD_ENTRIES * KVM_DIRTY_GFN_SIZE || bytes < pageSize) {
      throw kernelError("EINVAL", op, `dirty ring size ${bytes} is below a page or the reserved entries`);
    }
    if (bytes > DIRTY_RING_MAX_BYTES)
      throw kernelError("E2BIG", op, `dirty ring size ${bytes} is over ${DIRTY_RING_MAX_BYTES}`);
    if (this.#bytes !== 0) throw kernelError("EINVAL", op, "the dirty ring is enabled already");
    if (createdVcpus > 0) throw kernelError("EINVAL", op, "the dirty ring must be enabled before any vCPU is created");
    this.#bytes = bytes;
  }

  /** A vCPU was created: with the ring on, it gets its ring (`kvm_dirty_ring_alloc`). */
  addVcpu(id: number): void {
    if (this.#bytes === 0) return;
    const n = this.#bytes / KVM_DIRTY_GFN_SIZE;
    const gfns: Gfn[] = [];
    for (let i = 0; i < n; i++) gfns.push({ flags: 0, slot: 0, offset: 0 });
    this.#rings.set(id, { gfns, dirtyIndex: 0, resetIndex: 0, fetchIndex: 0 });
  }

  /**
   * The ring a write lands in: the writing vCPU's, or, for a write the test makes outside any
   * vCPU, the lowest-numbered vCPU's (the kernel has no ring for a write without a vCPU).
   */
  #ringOf(writer: number | undefined): Ring | undefined {
    if (writer !== undefined) return this.#rings.get(writer);
    let lowest: number | undefined;
    for (const id of this.#rings.keys()) if (lowest === undefined || id < lowest) lowest = id;
    return lowest === undefined ? undefined : this.#rings.get(lowest);
  }

  /** Whether the ring a write of `writer` would use has room for `count` more entries. */
  room(writer: number | undefined, count: number): boolean {
    const ring = this.#ringOf(writer);
    if (ring === undefined) return false;
    return ring.dirtyIndex - ring.resetIndex + count <= ring.gfns.length;
  }

  /** Whether the writer's ring is at the soft limit, where the vCPU exits with KVM_EXIT_DIRTY_RING_FULL. */
  softFull(writer: number | undefined): boolean {
    const ring = this.#ringOf(writer);
    return ring !== undefined && ring.dirtyIndex - ring.resetIndex >= ring.gfns.length - DIRTY_RING_RSVD_ENTRIES;
  }

  /** `kvm_dirty_ring_push`: the caller checked {@link room}. */
  push(writer: number | undefined, slot: SlotState, page: number): void {
    const ring = this.#ringOf(writer)!;
    const gfn = ring.gfns[ring.dirtyIndex % ring.gfns.length]!;
    gfn.slot = slot.slot;
    gfn.offset = page;
    gfn.flags = KVM_DIRTY_GFN_F_DIRTY;
    ring.dirtyIndex++;
  }

  /** Userspace's side (QEMU's `kvm_dirty_ring_reap_one` on every vCPU): published entries, marked collected. */
  reap(): KvmDirtyGfn[] {
    const out: KvmDirtyGfn[] = [];
    for (const id of [...this.#rings.keys()].sort((a, b) => a - b)) {
      const ring = this.#rings.get(id)!;
      for (;;) {
        const gfn = ring.gfns[ring.fetchIndex % ring.gfns.length]!;
        if ((gfn.flags & KVM_DIRTY_GFN_F_DIRTY) === 0) break;
        out.push({ slot: gfn.slot, offset: BigInt(gfn.offset) });
        gfn.flags = KVM_DIRTY_GFN_F_RESET;
        ring.fetchIndex++;
      }
    }
    return out;
  }

  /** KVM_RESET_DIRTY_RINGS (`kvm_dirty_ring_reset` per vCPU): collected entries freed in order, their pages protected. */
  reset(table: MemslotTable): number {
    let count = 0;
    for (const ring of this.#rings.values()) {
      for (;;) {
        if (ring.resetIndex === ring.dirtyIndex) break;
        const gfn = ring.gfns[ring.resetIndex % ring.gfns.length]!;
        if ((gfn.flags & KVM_DIRTY_GFN_F_RESET) === 0) break;
        // A slot deleted or moved since has nothing of this page to protect.
        table.get(gfn.slot)?.dirty?.delete(gfn.offset);
        gfn.flags = 0;
        ring.resetIndex++;
        count++;
      }
    }
    return count;
  }
}
