import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier, MemoryRegion } from "@memtopo/region-tree";
import {
  KVM_CAP,
  KVM_IOEVENTFD_FLAG_DEASSIGN,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  type KvmBackend,
} from "./backend.js";
import { KvmError } from "./errors.js";
import { ioeventfdRequest } from "./ioeventfd-request.js";

/** What the listener needs from its memory system: QEMU's `memory_region_get_dirty_log_mask`. */
export interface DirtyLogMaskSource {
  dirtyLogMask(mr: MemoryRegion): number;
}

/** One memslot as the listener knows it (QEMU's `KVMSlot`). */
export interface KvmSlot {
  /** Kernel slot id within this listener's KVM address space. */
  readonly id: number;
  readonly start: bigint;
  readonly size: bigint;
  readonly flags: number;
  readonly mr: MemoryRegion;
  /** Offset of the slot's first byte in the region's RAM block. */
  readonly offsetInRegion: bigint;
}

interface MutableSlot {
  id: number;
  start: bigint;
  size: bigint;
  flags: number;
  oldFlags: number;
  hostAddr: bigint;
  mr: MemoryRegion;
  offsetInRegion: bigint;
}

export interface KvmMemoryListenerOptions {
  /** KVM address space id (0: `memory`, 1: SMRAM); goes into bits 16 and up of slot numbers. */
  readonly asId?: number;
  readonly name?: string;
  /** Register MMIO ioeventfds (QEMU does so on `memory` only, when the kernel has KVM_CAP_IOEVENTFD). */
  readonly ioeventfds?: boolean;
  /** The largest slot; bigger sections are split (QEMU's `kvm_max_slot_size`, unlimited except on s390x). */
  readonly maxSlotSize?: bigint;
}

const UNLIMITED = (1n << 64n) - 1n;

/**
 * QEMU 7.2's KVM memory listener (`accel/kvm/kvm-all.c`): sections of RAM, ROM, RAM
 * devices and ROM devices in romd mode become memslots, trimmed inward to host pages, in
 * the lowest free slot; READONLY and LOG_DIRTY_PAGES come from the MemoryRegion, never
 * from the section (a read-only alias of RAM gets a writable slot). There is no
 * `region_nop`, and every change is an immediate call to the backend.
 *
 * Where QEMU aborts on a failed ioctl, this listener throws the backend's `KvmError`
 * after making its slot table agree with what the kernel now holds.
 */
export class KvmMemoryListener implements MemoryListener {
  readonly name: string;
  readonly priority = 10;
  readonly asId: number;
  readonly #backend: KvmBackend;
  readonly #system: DirtyLogMaskSource;
  readonly #slots: (MutableSlot | null)[];
  readonly #page: bigint;
  readonly #readonlyMem: boolean;
  readonly #maxSlotSize: bigint;
  /** Dirty pages harvested from the kernel, per region, as byte offsets of pages in its RAM block. */
  readonly #dirty = new Map<MemoryRegion, Set<bigint>>();

  constructor(backend: KvmBackend, system: DirtyLogMaskSource, options: KvmMemoryListenerOptions = {}) {
    const asId = options.asId ?? 0;
    if (!Number.isInteger(asId) || asId < 0 || asId > 0x7fff) {
      throw new KvmError(
        "EINVAL",
        "KvmMemoryListener",
        `address space id must be an integer in [0, 32767], got ${asId}`,
      );
    }
    this.#backend = backend;
    this.#system = system;
    this.asId = asId;
    this.name = options.name ?? (asId === 0 ? "kvm-memory" : "kvm-smram");
    const nrSlots = backend.checkExtension(KVM_CAP.NR_MEMSLOTS);
    this.#slots = new Array<MutableSlot | null>(nrSlots > 0 ? nrSlots : 32).fill(null);
    this.#page = BigInt(backend.hostPageSize);
    this.#readonlyMem = backend.checkExtension(KVM_CAP.READONLY_MEM) > 0;
    const maxSlotSize = options.maxSlotSize ?? UNLIMITED;
    // kvm_set_max_memslot_size asserts page alignment; a chunk size of 0 would never end.
    if (
      typeof maxSlotSize !== "bigint" ||
      maxSlotSize <= 0n ||
      (maxSlotSize !== UNLIMITED && maxSlotSize % this.#page !== 0n)
    ) {
      throw new KvmError(
        "EINVAL",
        "KvmMemoryListener",
        `maxSlotSize must be a positive multiple of the host page size (0x${this.#page.toString(16)}), got ${String(maxSlotSize)}`,
      );
    }
    this.#maxSlotSize = maxSlotSize;
    if (options.ioeventfds !== true) {
      // Only the `memory` listener of a kernel with ioeventfds handles them (kvm_memory_listener_register).
      this.eventfdAdd = undefined;
      this.eventfdDel = undefined;
    }
  }

  /** The live slots, by slot id. */
  get slots(): readonly KvmSlot[] {
    return this.#slots.filter((s): s is MutableSlot => s !== null);
  }

  /** QEMU's `kvm_accel_has_memory`: a slot starts exactly at `start` with exactly this size (capped). */
  hasMemory(start: bigint, size: bigint): boolean {
    return this.#find(start, size < this.#maxSlotSize ? size : this.#maxSlotSize) !== null;
  }

  /** Pages the guest dirtied in `mr` since the last call (byte offsets in its RAM block), harvested by `logSync` and slot deletion. */
  takeDirtyPages(mr: MemoryRegion): bigint[] {
    const pages = this.#dirty.get(mr);
    this.#dirty.delete(mr);
    return pages === undefined ? [] : [...pages].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  regionAdd(section: MemoryRegionSection): void {
    this.#setPhysMem(section, true);
  }

  regionDel(section: MemoryRegionSection): void {
    this.#setPhysMem(section, false);
  }

  /** `kvm_log_start`: only the first client (old mask 0) changes the slot's flags. */
  logStart(section: MemoryRegionSection, oldMask: number, _newMask: number): void {
    if (oldMask === 0) this.#updateFlags(section);
  }

  /** `kvm_log_stop`: only the last client leaving (new mask 0) changes the slot's flags. */
  logStop(section: MemoryRegionSection, _oldMask: number, newMask: number): void {
    if (newMask === 0) this.#updateFlags(section);
  }

  /**
   * `kvm_log_sync`: harvest the kernel's dirty bitmap of each slot of the section. As in
   * QEMU, a slot whose bitmap cannot be read is skipped and the others are still synced;
   * the first failure is then thrown.
   */
  logSync(section: MemoryRegionSection): void {
    const failures: unknown[] = [];
    this.#eachSlot(section, (slot) => {
      if (slot !== null) this.#harvest(slot, failures);
      return slot !== null;
    });
    if (failures.length > 0) throw failures[0];
  }

  eventfdAdd?: (section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier) => void = (
    section,
    matchData,
    data,
    notifier,
  ) => this.#ioeventfd(section, matchData, data, notifier, 0);

  eventfdDel?: (section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier) => void = (
    section,
    matchData,
    data,
    notifier,
  ) => this.#ioeventfd(section, matchData, data, notifier, KVM_IOEVENTFD_FLAG_DEASSIGN);

  /** `kvm_mem_ioeventfd_add/del`: MMIO, address and length from the section, data taken as 32 bits (7.2). */
  #ioeventfd(
    section: MemoryRegionSection,
    matchData: boolean,
    data: bigint,
    notifier: EventNotifier,
    flags: number,
  ): void {
    this.#backend.ioeventfd(
      ioeventfdRequest(section, matchData, data, notifier, flags, { addrBits: 64, dataBits: 32 }),
    );
  }

  /** `kvm_mem_flags`: from the region, not the section. */
  #flags(mr: MemoryRegion): number {
    let flags = this.#system.dirtyLogMask(mr) !== 0 ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    if ((mr.readonly || mr.isRomd) && this.#readonlyMem) flags |= KVM_MEM_READONLY;
    return flags;
  }

  /** `kvm_set_phys_mem`. */
  #setPhysMem(section: MemoryRegionSection, addIn: boolean): void {
    const mr = section.mr;
    if (mr === null || mr.ramBlock === null) return;
    let add = addIn;
    if (!mr.ram) {
      // Only "not writable" non-RAM regions (ROM devices) are mapped, and only read-only.
      const writable = !mr.readonly && !mr.romDevice;
      if (writable || !this.#readonlyMem) return;
      if (!mr.romdMode) add = false; // romd off: no slot, every access traps to the device
    }
    const trimmed = this.#align(section);
    if (trimmed === null) return;
    let { start, size, offsetInRegion } = trimmed;
    // QEMU reports a dirty log it cannot read and deletes the slot all the same.
    const harvestFailures: unknown[] = [];
    do {
      const chunk = size < this.#maxSlotSize ? size : this.#maxSlotSize;
      if (add) {
        this.#create(mr, start, chunk, offsetInRegion);
      } else {
        const slot = this.#find(start, chunk);
        if (slot === null) break;
        if ((slot.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0) this.#harvest(slot, harvestFailures);
        this.#delete(slot);
      }
      start += chunk;
      offsetInRegion += chunk;
      size -= chunk;
    } while (size > 0n);
    if (harvestFailures.length > 0) throw harvestFailures[0];
  }

  /** `kvm_section_update_flags`: resend a slot whose flags changed (dirty logging), chunk by chunk. */
  #updateFlags(section: MemoryRegionSection): void {
    const mr = section.mr;
    if (mr === null) return;
    this.#eachSlot(section, (slot) => {
      if (slot === null) return false;
      const flags = this.#flags(mr);
      if (flags === slot.oldFlags) return true;
      slot.flags = flags;
      this.#send(slot, false);
      return true;
    });
  }

  /** Calls `visit` for the slot of each chunk of the trimmed section until it returns false. */
  #eachSlot(section: MemoryRegionSection, visit: (slot: MutableSlot | null) => boolean): void {
    const trimmed = this.#align(section);
    if (trimmed === null) return;
    let { start, size } = trimmed;
    while (size > 0n) {
      const chunk = size < this.#maxSlotSize ? size : this.#maxSlotSize;
      if (!visit(this.#find(start, chunk))) return;
      start += chunk;
      size -= chunk;
    }
  }

  /** `kvm_align_section`: start rounded up and size rounded down to host pages. */
  #align(section: MemoryRegionSection): { start: bigint; size: bigint; offsetInRegion: bigint } | null {
    const page = this.#page;
    const start = ((section.offsetWithinAddressSpace + page - 1n) / page) * page;
    const delta = start - section.offsetWithinAddressSpace;
    if (delta > section.size) return null;
    const size = ((section.size - delta) / page) * page;
    if (size === 0n) return null;
    return { start, size, offsetInRegion: section.offsetWithinRegion + delta };
  }

  /** `kvm_lookup_matching_slot`: exactly this start and size. */
  #find(start: bigint, size: bigint): MutableSlot | null {
    for (const slot of this.#slots) if (slot !== null && slot.start === start && slot.size === size) return slot;
    return null;
  }

  #create(mr: MemoryRegion, start: bigint, size: bigint, offsetInRegion: bigint): void {
    const id = this.#slots.indexOf(null);
    if (id < 0) throw new KvmError("ENOSPC", "KVM_SET_USER_MEMORY_REGION", `no free slot among ${this.#slots.length}`);
    const slot: MutableSlot = {
      id,
      start,
      size,
      flags: this.#flags(mr),
      oldFlags: 0,
      hostAddr: mr.ramBlock!.hostAddr + offsetInRegion,
      mr,
      offsetInRegion,
    };
    this.#send(slot, true);
    this.#slots[id] = slot;
  }

  #delete(slot: MutableSlot): void {
    this.#backend.setUserMemoryRegion({
      slot: this.#kernelId(slot),
      flags: 0,
      guestPhysAddr: slot.start,
      memorySize: 0n,
      userspaceAddr: slot.hostAddr,
    });
    this.#slots[slot.id] = null;
  }

  /**
   * `kvm_set_user_memory_region`: the kernel cannot change READONLY on a live slot, so such
   * an update deletes the slot first. `oldFlags` follows what the kernel accepted.
   */
  #send(slot: MutableSlot, isNew: boolean): void {
    const region = {
      slot: this.#kernelId(slot),
      flags: slot.flags,
      guestPhysAddr: slot.start,
      userspaceAddr: slot.hostAddr,
    };
    if (!isNew && ((slot.flags ^ slot.oldFlags) & KVM_MEM_READONLY) !== 0) {
      try {
        this.#backend.setUserMemoryRegion({ ...region, memorySize: 0n });
      } catch (error) {
        slot.flags = slot.oldFlags;
        throw error;
      }
      this.#slots[slot.id] = null;
      this.#backend.setUserMemoryRegion({ ...region, memorySize: slot.size });
      this.#slots[slot.id] = slot;
    } else {
      try {
        this.#backend.setUserMemoryRegion({ ...region, memorySize: slot.size });
      } catch (error) {
        slot.flags = slot.oldFlags;
        throw error;
      }
    }
    slot.oldFlags = slot.flags;
  }

  #kernelId(slot: MutableSlot): number {
    return slot.id | (this.asId << 16);
  }

  /** `kvm_slot_get_dirty_log` + `kvm_slot_sync_dirty_pages`: the kernel's bitmap into the region's dirty pages. */
  #harvest(slot: MutableSlot, failures: unknown[]): void {
    let bitmap: Uint8Array;
    try {
      bitmap = this.#backend.getDirtyLog(this.#kernelId(slot));
    } catch (error) {
      // ENOENT: the kernel keeps no bitmap for this slot, which QEMU treats as nothing dirty.
      if (!(error instanceof KvmError && error.code === "ENOENT")) failures.push(error);
      return;
    }
    const pages = this.#dirty.get(slot.mr) ?? new Set<bigint>();
    for (let byte = 0; byte < bitmap.length; byte++) {
      const bits = bitmap[byte]!;
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if ((bits & (1 << bit)) === 0) continue;
        const page = BigInt(byte * 8 + bit) * this.#page;
        if (page < slot.size) pages.add(slot.offsetInRegion + page);
      }
    }
    if (pages.size > 0) this.#dirty.set(slot.mr, pages);
  }
}
