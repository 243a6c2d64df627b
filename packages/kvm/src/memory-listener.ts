import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import { describeValue, type MemoryRegion } from "@memtopo/region-tree";
import {
  KVM_CAP,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  type KvmBackend,
  type KvmUserspaceMemoryRegion,
} from "./backend.js";
import { coalescedZoneCall, coalescesMmio } from "./coalesced.js";
import { type DirtyBitmapSink, DirtyPages } from "./dirty-pages.js";
import { DirtyRingReaper } from "./dirty-ring-reaper.js";
import { KvmError } from "./errors.js";
import { throwFailures } from "./failures.js";
import { type IoeventfdCallbacks, ioeventfdCallbacks } from "./ioeventfd-callbacks.js";
import { IoeventfdSync } from "./ioeventfd-sync.js";
import { SlotDirtyLog } from "./slot-dirty-log.js";
import { SlotTable } from "./slot-table.js";

/**
 * What the listener needs from its memory system: QEMU's `memory_region_get_dirty_log_mask`,
 * and where fetched dirty logs go (memtopo's per-block dirty memory); without a
 * `setDirtyLebitmap`, the listener keeps them for {@link KvmMemoryListener.takeDirtyPages}.
 */
export interface DirtyLogMaskSource extends Partial<DirtyBitmapSink> {
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
  /** As the kernel last accepted them (QEMU's `old_flags`). */
  flags: number;
  hostAddr: bigint;
  mr: MemoryRegion;
  offsetInRegion: bigint;
  readonly kernelId: number;
  dirtyBmap: Uint8Array | null;
}

/** A piece of the view that should be a slot but the kernel refused. */
interface MissingChunk {
  readonly mr: MemoryRegion;
  readonly start: bigint;
  readonly size: bigint;
  readonly offsetInRegion: bigint;
}

/** Where the kernel differs from the listener's view after refused calls (see {@link KvmMemoryListener.recover}). */
export interface KvmOutOfSync {
  /** Slots the view has and the kernel lacks. */
  readonly missingSlots: readonly { readonly start: bigint; readonly size: bigint }[];
  /** Slots the kernel holds that the view no longer has. */
  readonly staleSlots: readonly KvmSlot[];
  /** Slots whose flags (dirty logging, READONLY) the kernel has not taken. */
  readonly flagUpdates: number;
  /** Refused KVM_IOEVENTFD calls. */
  readonly ioeventfds: number;
}

export interface KvmMemoryListenerOptions {
  /** KVM address space id (0: `memory`, 1: SMRAM); goes into bits 16 and up of slot numbers. */
  readonly asId?: number;
  readonly name?: string;
  /** Register MMIO ioeventfds (QEMU does so on `memory` only, when the kernel has KVM_CAP_IOEVENTFD). */
  readonly ioeventfds?: boolean;
  /** The largest slot; bigger sections are split (QEMU's `kvm_max_slot_size`, unlimited except on s390x). */
  readonly maxSlotSize?: bigint;
  /** A big-endian guest: ioeventfd data is byte-swapped for the kernel (`adjust_ioeventfd_endianness`). */
  readonly targetBigEndian?: boolean;
  /**
   * The VM's dirty-ring reaper, shared by the listeners of one VM (attachKvm makes it); a
   * listener on a backend with a ring enabled makes its own when not given one.
   */
  readonly dirtyRing?: DirtyRingReaper;
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
 * with its slot table agreeing with what the kernel holds, remembers what the kernel
 * refused ({@link outOfSync}), and redoes it at the start of the next commit
 * ({@link recover}), so the kernel comes back to the view once the fault clears.
 */
export class KvmMemoryListener implements MemoryListener {
  readonly name: string;
  readonly priority = 10;
  readonly asId: number;
  readonly #backend: KvmBackend;
  readonly #system: DirtyLogMaskSource;
  readonly #slots: SlotTable<MutableSlot>;
  readonly #page: bigint;
  readonly #readonlyMem: boolean;
  readonly #maxSlotSize: bigint;
  readonly #dirty = new DirtyPages();
  readonly #log: SlotDirtyLog;
  readonly #ring: DirtyRingReaper | null;
  readonly #missing: MissingChunk[] = [];
  /** Slots whose flag update the kernel refused, with the flags it should have taken. */
  readonly #flagsPending = new Map<MutableSlot, number>();
  readonly #eventfds: IoeventfdSync;
  readonly #coalescedMmio: boolean;
  // Callbacks QEMU sets only in some configurations: `declare`d so that an absent one is no
  // property at all (not one holding undefined), assigned in the constructor when present.
  /** `kvm_log_sync`; absent with the dirty ring, whose one global sync replaces it. */
  declare readonly logSync?: (section: MemoryRegionSection) => void;
  /** `kvm_log_sync_global`; present with the dirty ring only. */
  declare readonly logSyncGlobal?: (lastStage: boolean) => void;
  /** `kvm_mem_ioeventfd_add/del`; present only with `ioeventfds: true`. */
  declare readonly eventfdAdd?: IoeventfdCallbacks["eventfdAdd"];
  declare readonly eventfdDel?: IoeventfdCallbacks["eventfdDel"];

  constructor(backend: KvmBackend, system: DirtyLogMaskSource, options: KvmMemoryListenerOptions = {}) {
    const asId = options.asId ?? 0;
    if (!Number.isInteger(asId) || asId < 0 || asId > 0x7fff) {
      throw new KvmError(
        "EINVAL",
        "KvmMemoryListener",
        `address space id must be an integer in [0, 32767], got ${describeValue(asId)}`,
      );
    }
    this.#backend = backend;
    this.#system = system;
    this.asId = asId;
    this.name = options.name ?? (asId === 0 ? "kvm-memory" : "kvm-smram");
    const nrSlots = backend.checkExtension(KVM_CAP.NR_MEMSLOTS);
    this.#slots = new SlotTable<MutableSlot>(nrSlots > 0 ? nrSlots : 32);
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
        `maxSlotSize must be a positive multiple of the host page size (0x${this.#page.toString(16)}), got ${describeValue(maxSlotSize)}`,
      );
    }
    this.#maxSlotSize = maxSlotSize;
    const sink: DirtyBitmapSink =
      typeof system.setDirtyLebitmap === "function"
        ? { setDirtyLebitmap: system.setDirtyLebitmap.bind(system) }
        : this.#dirty;
    this.#log = new SlotDirtyLog(backend, sink);
    if ((backend.dirtyRingSize ?? 0) > 0) {
      // kvm_memory_listener_register: with the ring, one global sync replaces per-section syncs.
      this.#ring = options.dirtyRing ?? new DirtyRingReaper(backend);
      this.#ring.register(asId, (entries) => this.#markRing(entries));
      this.logSyncGlobal = () => this.#logSyncGlobal();
    } else {
      this.#ring = null;
      this.logSync = (section) => this.#logSync(section);
    }
    this.#eventfds = new IoeventfdSync(backend);
    this.#coalescedMmio = coalescesMmio(backend);
    if (options.ioeventfds === true) {
      // Only the `memory` listener of a kernel with ioeventfds handles them (kvm_init sets them when eventfds are
      // allowed); kvm_mem_ioeventfd_add takes the data as 32 bits in 7.2.
      const callbacks = ioeventfdCallbacks(this.#eventfds, 0, {
        addrBits: 64,
        dataBits: 32,
        targetBigEndian: options.targetBigEndian === true,
      });
      this.eventfdAdd = callbacks.eventfdAdd;
      this.eventfdDel = callbacks.eventfdDel;
    }
  }

  /** The slots the kernel holds, by slot id (stale ones included: see {@link outOfSync}). */
  get slots(): readonly KvmSlot[] {
    return this.#slots.all();
  }

  /** What the kernel refused and {@link recover} will redo; all empty when the kernel matches the view. */
  get outOfSync(): KvmOutOfSync {
    return {
      missingSlots: this.#missing.map(({ start, size }) => ({ start, size })),
      staleSlots: this.#slots.staleSlots(),
      flagUpdates: this.#flagsPending.size,
      ioeventfds: this.#eventfds.pending,
    };
  }

  /** QEMU's `kvm_accel_has_memory`: a slot starts exactly at `start` with exactly this size (capped). */
  hasMemory(start: bigint, size: bigint): boolean {
    return this.#slots.find(start, size < this.#maxSlotSize ? size : this.#maxSlotSize) !== null;
  }

  /**
   * Pages the guest dirtied in `mr` since the last call (byte offsets in its RAM block), harvested by `logSync`
   * and slot deletion; empty when the system keeps dirty memory itself (`setDirtyLebitmap`).
   */
  takeDirtyPages(mr: MemoryRegion): bigint[] {
    return this.#dirty.take(mr);
  }

  /**
   * Redoes what the kernel refused: deletes stale slots first (they may overlap missing
   * ones), then creates missing slots, resends refused flags and ioeventfds. What fails
   * again stays pending; every failure is reported (`throwFailures`). Called by every commit's `begin`.
   */
  recover(): void {
    const failures: unknown[] = [];
    for (const slot of this.#slots.staleSlots()) {
      try {
        this.#delete(slot);
      } catch (error) {
        failures.push(error);
      }
    }
    for (const chunk of this.#missing.splice(0)) this.#create(chunk, failures);
    for (const [slot, flags] of [...this.#flagsPending]) {
      this.#flagsPending.delete(slot);
      if (flags !== slot.flags) this.#resendFlags(slot, flags, failures);
    }
    try {
      this.#eventfds.retry();
    } catch (error) {
      failures.push(error);
    }
    throwFailures(failures);
  }

  begin(): void {
    this.recover();
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
   * every failure is then reported.
   */
  #logSync(section: MemoryRegionSection): void {
    const failures: unknown[] = [];
    this.#eachSlot(section, (slot) => {
      if (slot !== null) this.#log.fetch(slot, failures);
      return slot !== null;
    });
    throwFailures(failures);
  }

  /**
   * `kvm_log_sync_global` (dirty ring): reap every vCPU's ring (`kvm_dirty_ring_flush`), then
   * hand each logging slot's reaped pages to the system and forget them.
   */
  #logSyncGlobal(): void {
    this.#ring!.reap();
    for (const slot of this.#slots.all()) {
      if ((slot.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0) this.#log.flushMarks(slot);
    }
  }

  /**
   * `kvm_log_clear` / `kvm_physical_log_clear`: with manual protect, re-protect the pages of
   * the section that the last sync reported, in every slot it overlaps; nothing otherwise
   * (KVM_GET_DIRTY_LOG re-protected them already). A slot whose clear fails keeps its bits.
   */
  logClear(section: MemoryRegionSection): void {
    if (!this.#log.manualProtect || section.size === 0n) return;
    const start = section.offsetWithinAddressSpace;
    const end = start + section.size;
    const failures: unknown[] = [];
    for (const slot of this.#slots.all()) {
      const slotEnd = slot.start + slot.size;
      if (slot.start >= end || start >= slotEnd) continue;
      const from = start > slot.start ? start : slot.start;
      const to = end < slotEnd ? end : slotEnd;
      // Whole host pages only: a page the section covers in part is not the section's to re-protect.
      const first = ((from - slot.start + this.#page - 1n) / this.#page) * this.#page;
      const last = ((to - slot.start) / this.#page) * this.#page;
      if (last > first) this.#log.clear(slot, first, last - first, failures);
    }
    throwFailures(failures);
  }

  /** Ring entries of this listener's address space into their slots' bitmaps. */
  #markRing(entries: readonly { readonly id: number; readonly offset: bigint }[]): void {
    const byId = new Map<number, MutableSlot>();
    for (const slot of this.#slots.all()) byId.set(slot.id, slot);
    for (const { id, offset } of entries) {
      const slot = byId.get(id);
      if (slot !== undefined) this.#log.mark(slot, offset);
    }
  }

  /** `kvm_coalesce_mmio_region`: an MMIO zone, when the kernel coalesces (return value ignored). */
  coalescedIoAdd(_section: MemoryRegionSection, addr: bigint, len: bigint): void {
    if (this.#coalescedMmio) coalescedZoneCall(this.#backend, true, addr, len, false);
  }

  /** `kvm_uncoalesce_mmio_region`. */
  coalescedIoDel(_section: MemoryRegionSection, addr: bigint, len: bigint): void {
    if (this.#coalescedMmio) coalescedZoneCall(this.#backend, false, addr, len, false);
  }

  /** `kvm_mem_flags`: from the region, not the section. */
  #flags(mr: MemoryRegion): number {
    let flags = this.#system.dirtyLogMask(mr) !== 0 ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    if ((mr.readonly || mr.isRomd) && this.#readonlyMem) flags |= KVM_MEM_READONLY;
    return flags;
  }

  /**
   * `kvm_set_phys_mem`. Unlike QEMU, a refused chunk does not stop the others: it is
   * remembered for {@link recover} and every refusal is reported at the end.
   */
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
    const failures: unknown[] = [];
    do {
      const chunk = size < this.#maxSlotSize ? size : this.#maxSlotSize;
      if (add) {
        this.#create({ mr, start, size: chunk, offsetInRegion }, failures);
      } else if (!this.#deleteChunk(start, chunk, failures)) {
        break;
      }
      start += chunk;
      offsetInRegion += chunk;
      size -= chunk;
    } while (size > 0n);
    throwFailures(failures);
  }

  /** Deletes the chunk's slot, harvesting its dirty log first; false when the chunk has none (QEMU stops there). */
  #deleteChunk(start: bigint, size: bigint, failures: unknown[]): boolean {
    const slot = this.#slots.find(start, size);
    if (slot === null) {
      const i = this.#missing.findIndex((c) => c.start === start && c.size === size);
      if (i < 0) return false;
      this.#missing.splice(i, 1);
      return true;
    }
    // QEMU reports a dirty log it cannot read and deletes the slot all the same.
    if ((slot.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0) this.#harvestBeforeDelete(slot, failures);
    this.#flagsPending.delete(slot);
    try {
      this.#delete(slot);
    } catch (error) {
      this.#slots.markStale(slot);
      failures.push(error);
    }
    return true;
  }

  /** `kvm_set_phys_mem` before deleting a logging slot: its last dirty pages, from the ring or the bitmap. */
  #harvestBeforeDelete(slot: MutableSlot, failures: unknown[]): void {
    if (this.#ring !== null) {
      try {
        this.#ring.reap();
      } catch (error) {
        failures.push(error);
      }
      this.#log.flushMarks(slot);
    } else {
      this.#log.fetch(slot, failures);
    }
  }

  /** `kvm_section_update_flags`: resend a slot whose flags changed (dirty logging), chunk by chunk. */
  #updateFlags(section: MemoryRegionSection): void {
    const mr = section.mr;
    if (mr === null) return;
    const failures: unknown[] = [];
    this.#eachSlot(section, (slot) => {
      if (slot === null) return false;
      const flags = this.#flags(mr);
      if (flags === slot.flags) {
        this.#flagsPending.delete(slot);
        return true;
      }
      this.#resendFlags(slot, flags, failures);
      return true;
    });
    throwFailures(failures);
  }

  /** Calls `visit` for the slot of each chunk of the trimmed section until it returns false. */
  #eachSlot(section: MemoryRegionSection, visit: (slot: MutableSlot | null) => boolean): void {
    const trimmed = this.#align(section);
    if (trimmed === null) return;
    let { start, size } = trimmed;
    while (size > 0n) {
      const chunk = size < this.#maxSlotSize ? size : this.#maxSlotSize;
      if (!visit(this.#slots.find(start, chunk))) return;
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

  /** Makes a slot of the chunk in the lowest free id; a refusal leaves the chunk missing. */
  #create(chunk: MissingChunk, failures: unknown[]): void {
    const id = this.#slots.freeId();
    if (id < 0) {
      this.#missing.push(chunk);
      failures.push(new KvmError("ENOSPC", "KVM_SET_USER_MEMORY_REGION", `no free slot among ${this.#slots.capacity}`));
      return;
    }
    const slot: MutableSlot = {
      id,
      start: chunk.start,
      size: chunk.size,
      flags: this.#flags(chunk.mr),
      hostAddr: chunk.mr.ramBlock!.hostAddr + chunk.offsetInRegion,
      mr: chunk.mr,
      offsetInRegion: chunk.offsetInRegion,
      kernelId: id | (this.asId << 16),
      dirtyBmap: null,
    };
    try {
      this.#backend.setUserMemoryRegion({ ...this.#region(slot), memorySize: slot.size });
    } catch (error) {
      this.#missing.push(chunk);
      failures.push(error);
      return;
    }
    this.#slots.put(slot);
  }

  #delete(slot: MutableSlot): void {
    this.#backend.setUserMemoryRegion({ ...this.#region(slot), flags: 0, memorySize: 0n });
    this.#slots.remove(slot);
  }

  /**
   * `kvm_set_user_memory_region` for a live slot: the kernel cannot change READONLY on a
   * live slot, so such an update deletes the slot first. `flags` follows what the kernel
   * accepted; a refusal leaves the new flags pending, or the chunk missing when the slot
   * was already deleted.
   */
  #resendFlags(slot: MutableSlot, flags: number, failures: unknown[]): void {
    const region = { ...this.#region(slot), flags, memorySize: slot.size };
    try {
      if (((flags ^ slot.flags) & KVM_MEM_READONLY) !== 0) {
        this.#backend.setUserMemoryRegion({ ...region, memorySize: 0n });
        this.#slots.remove(slot);
        try {
          this.#backend.setUserMemoryRegion(region);
        } catch (error) {
          this.#missing.push({ mr: slot.mr, start: slot.start, size: slot.size, offsetInRegion: slot.offsetInRegion });
          throw error;
        }
        this.#slots.put(slot);
      } else {
        this.#backend.setUserMemoryRegion(region);
      }
    } catch (error) {
      if (this.#slots.holds(slot)) this.#flagsPending.set(slot, flags);
      failures.push(error);
      return;
    }
    // The kernel made a new bitmap (or none) for the slot: what was held of the old one is not its.
    if (((flags ^ slot.flags) & KVM_MEM_LOG_DIRTY_PAGES) !== 0) slot.dirtyBmap = null;
    slot.flags = flags;
  }

  #region(slot: MutableSlot): Omit<KvmUserspaceMemoryRegion, "memorySize"> {
    return {
      slot: slot.id | (this.asId << 16),
      flags: slot.flags,
      guestPhysAddr: slot.start,
      userspaceAddr: slot.hostAddr,
    };
  }
}
