import {
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  type KvmMemslot,
  type KvmUserspaceMemoryRegion,
} from "@memtopo/kvm";
import { UINT64_MAX } from "@memtopo/region-tree";
import { kernelError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";

const OP = "KVM_SET_USER_MEMORY_REGION";

/** `KVM_MEM_MAX_NR_PAGES`: the dirty bitmap is indexed by a 32-bit int, so a slot holds at most 2^31 - 1 pages. */
const MAX_NR_PAGES = 2n ** 31n - 1n;

/** A live memslot as the kernel holds it: the same plain object every backend's `memslots()` gives. */
export type MockMemslot = KvmMemslot;

/** Kernel-side state of a slot: the dirty pages (slot-relative page numbers) exist only while logging. */
export interface SlotState extends MockMemslot {
  readonly dirty: Set<number> | null;
}

export function slotId(slot: number): number {
  return slot & 0xffff;
}

export function slotAsId(slot: number): number {
  return slot >>> 16;
}

/**
 * The memslots of all address spaces, with `__kvm_set_memory_region`'s rules in its
 * order of checks. A rejected request throws before anything changes.
 */
export class MemslotTable {
  readonly #options: ResolvedOptions;
  readonly #slots = new Map<number, SlotState>();

  /** Whether a slot that starts logging begins with every page dirty (manual protect with INITIALLY_SET, no ring). */
  startsAllDirty: () => boolean = () => false;

  constructor(options: ResolvedOptions) {
    this.#options = options;
  }

  get(slot: number): SlotState | undefined {
    return this.#slots.get(slot);
  }

  /** Live slots ordered by address space, then guest address. */
  list(): SlotState[] {
    return [...this.#slots.values()].sort((a, b) =>
      a.asId !== b.asId ? a.asId - b.asId : a.guestPhysAddr < b.guestPhysAddr ? -1 : 1,
    );
  }

  /** The slot of `asId` that contains `gpa`, if any. */
  find(asId: number, gpa: bigint): SlotState | undefined {
    for (const s of this.#slots.values()) {
      if (s.asId === asId && gpa >= s.guestPhysAddr && gpa - s.guestPhysAddr < s.memorySize) return s;
    }
    return undefined;
  }

  set(region: KvmUserspaceMemoryRegion): void {
    const { slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr } = region;
    const o = this.#options;
    const page = BigInt(o.hostPageSize);
    const id = slotId(slot);
    const asId = slotAsId(slot);

    if (id >= o.nrMemslots) {
      throw kernelError("EINVAL", OP, `slot id ${id} is not below KVM_CAP_NR_MEMSLOTS (${o.nrMemslots})`);
    }
    const validFlags = KVM_MEM_LOG_DIRTY_PAGES | (o.readonlyMem ? KVM_MEM_READONLY : 0);
    if ((flags & ~validFlags) !== 0) {
      const why = (flags & KVM_MEM_READONLY) !== 0 && !o.readonlyMem ? " (no KVM_CAP_READONLY_MEM)" : "";
      throw kernelError("EINVAL", OP, `flags 0x${flags.toString(16)} are not allowed${why}`);
    }
    if (size % page !== 0n) throw kernelError("EINVAL", OP, `memory_size 0x${size.toString(16)} is not page aligned`);
    if (gpa % page !== 0n) {
      throw kernelError("EINVAL", OP, `guest_phys_addr 0x${gpa.toString(16)} is not page aligned`);
    }
    if (uaddr % page !== 0n) {
      throw kernelError("EINVAL", OP, `userspace_addr 0x${uaddr.toString(16)} is not page aligned`);
    }
    if (uaddr + size > o.userspaceLimit) {
      throw kernelError(
        "EINVAL",
        OP,
        `userspace range 0x${uaddr.toString(16)}+0x${size.toString(16)} is not user memory`,
      );
    }
    if (asId >= o.addressSpaces) {
      throw kernelError("EINVAL", OP, `address space ${asId} is not below ${o.addressSpaces}`);
    }
    if (gpa + size > UINT64_MAX) {
      throw kernelError("EINVAL", OP, `guest range 0x${gpa.toString(16)}+0x${size.toString(16)} wraps around`);
    }
    if (size / page > MAX_NR_PAGES) {
      throw kernelError("EINVAL", OP, `memory_size 0x${size.toString(16)} exceeds KVM_MEM_MAX_NR_PAGES`);
    }

    const old = this.#slots.get(slot);
    if (size === 0n) {
      if (old === undefined) throw kernelError("EINVAL", OP, `slot ${slot} is not in use and cannot be deleted`);
      this.#slots.delete(slot);
      return;
    }

    let moved = true;
    if (old !== undefined) {
      if (uaddr !== old.userspaceAddr) {
        throw kernelError("EINVAL", OP, `slot ${slot} is live: its userspace_addr cannot change`);
      }
      if (size !== old.memorySize) throw kernelError("EINVAL", OP, `slot ${slot} is live: its size cannot change`);
      if (((flags ^ old.flags) & KVM_MEM_READONLY) !== 0) {
        throw kernelError("EINVAL", OP, `slot ${slot} is live: KVM_MEM_READONLY cannot change in place`);
      }
      moved = gpa !== old.guestPhysAddr;
      if (!moved && flags === old.flags) return;
    }

    if (moved) {
      for (const other of this.#slots.values()) {
        if (other.asId === asId && other.id !== id && overlaps(other, gpa, size)) {
          throw kernelError(
            "EEXIST",
            OP,
            `0x${gpa.toString(16)}+0x${size.toString(16)} overlaps slot ${other.slot} at 0x${other.guestPhysAddr.toString(16)}+0x${other.memorySize.toString(16)}`,
          );
        }
      }
      if (gpa + size - 1n >= 1n << BigInt(o.guestPhysBits)) {
        throw kernelError("EINVAL", OP, `guest range ends beyond the ${o.guestPhysBits}-bit guest physical space`);
      }
    }

    const logging = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    // A moved slot keeps its bitmap; a slot that starts logging gets a clean one (all set with INITIALLY_SET).
    let dirty = logging ? (old?.dirty ?? null) : null;
    if (logging && dirty === null) {
      dirty = new Set<number>();
      if (this.startsAllDirty()) for (let p = 0, n = Number(size / BigInt(o.hostPageSize)); p < n; p++) dirty.add(p);
    }
    this.#slots.set(slot, { slot, asId, id, guestPhysAddr: gpa, memorySize: size, userspaceAddr: uaddr, flags, dirty });
  }
}

function overlaps(slot: MockMemslot, gpa: bigint, size: bigint): boolean {
  return gpa < slot.guestPhysAddr + slot.memorySize && slot.guestPhysAddr < gpa + size;
}
