import type { MemoryRegion } from "@memtopo/region-tree";
import type { KvmBackend } from "./backend.js";
import type { DirtyBitmapSink } from "./dirty-pages.js";
import { KvmError } from "./errors.js";

/** What the dirty log of a slot needs to know of it (QEMU's `KVMSlot`). */
export interface LoggedSlot {
  /** The kernel's slot number (KVM address space id in bits 16 and up). */
  readonly kernelId: number;
  readonly size: bigint;
  readonly mr: MemoryRegion;
  readonly offsetInRegion: bigint;
  /**
   * QEMU's `dirty_bmap`: with manual protect, the pages the last KVM_GET_DIRTY_LOG reported
   * and no KVM_CLEAR_DIRTY_LOG has re-protected yet; with the dirty ring, the pages reaped
   * since the last sync. Null when nothing is held.
   */
  dirtyBmap: Uint8Array | null;
}

/**
 * The per-slot half of `accel/kvm/kvm-all.c`'s dirty logging: fetch a slot's bitmap into
 * the sink (`kvm_slot_get_dirty_log` + `kvm_slot_sync_dirty_pages`), mark reaped ring
 * entries (`kvm_dirty_ring_mark_page`), and clear a range of a slot with manual protect
 * (`kvm_log_clear_one_slot`), 64-page aligned as the kernel demands.
 */
export class SlotDirtyLog {
  readonly #backend: KvmBackend;
  readonly #sink: DirtyBitmapSink;
  readonly #page: bigint;
  readonly #pageSize: number;
  /** Whether KVM_GET_DIRTY_LOG leaves the pages to KVM_CLEAR_DIRTY_LOG. */
  readonly manualProtect: boolean;

  constructor(backend: KvmBackend, sink: DirtyBitmapSink) {
    this.#backend = backend;
    this.#sink = sink;
    this.#pageSize = backend.hostPageSize;
    this.#page = BigInt(backend.hostPageSize);
    this.manualProtect = (backend.dirtyLogManualProtect ?? 0) !== 0 && backend.clearDirtyLog !== undefined;
  }

  #pages(slot: LoggedSlot): number {
    return Number(slot.size / this.#page);
  }

  /** Reads the slot's bitmap into the sink; a failure other than "no bitmap" goes to `failures`. */
  fetch(slot: LoggedSlot, failures: unknown[]): void {
    let bitmap: Uint8Array;
    try {
      bitmap = this.#backend.getDirtyLog(slot.kernelId);
    } catch (error) {
      // ENOENT: the kernel keeps no bitmap for this slot, which QEMU treats as nothing dirty.
      if (!(error instanceof KvmError && error.code === "ENOENT")) failures.push(error);
      return;
    }
    // With manual protect the kernel still holds these bits; they are what a clear may re-protect.
    if (this.manualProtect) slot.dirtyBmap = bitmap;
    this.#sink.setDirtyLebitmap(slot.mr, slot.offsetInRegion, bitmap, this.#pages(slot), this.#pageSize);
  }

  /** `kvm_dirty_ring_mark_page`: an entry past the slot's end (a slot since replaced) is dropped, as in QEMU. */
  mark(slot: LoggedSlot, offset: bigint): void {
    const pages = this.#pages(slot);
    if (offset < 0n || offset >= BigInt(pages)) return;
    slot.dirtyBmap ??= new Uint8Array(Math.ceil(pages / 64) * 8);
    const page = Number(offset);
    slot.dirtyBmap[page >>> 3]! |= 1 << (page & 7);
  }

  /** `kvm_slot_sync_dirty_pages` + `kvm_slot_reset_dirty_pages` of the ring's per-slot bitmap. */
  flushMarks(slot: LoggedSlot): void {
    const bitmap = slot.dirtyBmap;
    if (bitmap === null) return;
    slot.dirtyBmap = null;
    this.#sink.setDirtyLebitmap(slot.mr, slot.offsetInRegion, bitmap, this.#pages(slot), this.#pageSize);
  }

  /**
   * `kvm_log_clear_one_slot`: KVM_CLEAR_DIRTY_LOG for the pages of `[start, start + size)` of
   * the slot (byte offsets, host pages) that the last fetch reported. The kernel wants
   * `first_page` a multiple of 64 and `num_pages` too unless the range runs to the slot's
   * end, so the window widens to 64 pages with the bits outside the range left clear.
   */
  clear(slot: LoggedSlot, start: bigint, size: bigint, failures: unknown[]): void {
    const held = slot.dirtyBmap;
    if (held === null || size <= 0n) return;
    const first = Number(start / this.#page);
    const end = Number((start + size) / this.#page);
    if (end <= first) return;
    const slotPages = this.#pages(slot);
    const windowStart = first & ~63;
    const windowPages = Math.min(Math.ceil((end - windowStart) / 64) * 64, slotPages - windowStart);
    const bits = new Uint8Array(Math.ceil(windowPages / 64) * 8);
    // Whole bytes of the range are copied as they are (the window starts on a byte); the ragged ends bit by bit.
    const headEnd = Math.min(end, (first + 7) & ~7);
    const tailStart = Math.max(headEnd, end & ~7);
    let any = false;
    const copyBit = (p: number) => {
      if ((held[p >>> 3]! & (1 << (p & 7))) === 0) return;
      const q = p - windowStart;
      bits[q >>> 3]! |= 1 << (q & 7);
      any = true;
    };
    for (let p = first; p < headEnd; p++) copyBit(p);
    for (let byte = headEnd >>> 3; byte < tailStart >>> 3; byte++) {
      const b = held[byte]!;
      if (b === 0) continue;
      bits[byte - (windowStart >>> 3)] = b;
      any = true;
    }
    for (let p = tailStart; p < end; p++) copyBit(p);
    if (!any) return;
    try {
      this.#backend.clearDirtyLog!(slot.kernelId, BigInt(windowStart), windowPages, bits);
    } catch (error) {
      // The bits stay held: a later clear of the range tries again.
      failures.push(error);
      return;
    }
    for (let p = first; p < headEnd; p++) held[p >>> 3]! &= ~(1 << (p & 7));
    held.fill(0, headEnd >>> 3, tailStart >>> 3);
    for (let p = tailStart; p < end; p++) held[p >>> 3]! &= ~(1 << (p & 7));
  }
}
