import { KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from "@memtopo/kvm";
import type { MockDirtyRings } from "./dirty-ring.js";
import { kernelError, MockKvmUsageError } from "./errors.js";
import { type MemslotTable, type SlotState, slotAsId, slotId } from "./memslots.js";
import type { ResolvedOptions } from "./options.js";

/** How the VM tracks dirty pages: the manual-protect flags it enabled, and its rings (enabled or not). */
export interface DirtyLogMode {
  manualProtect: number;
  readonly rings: MockDirtyRings;
}

/**
 * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags) (`kvm_vm_ioctl_enable_cap_generic`):
 * any subset of ENABLE and, on x86, INITIALLY_SET that the kernel reports, at any time.
 */
export function enableManualProtect(mode: DirtyLogMode, options: ResolvedOptions, flags: number): void {
  const allowed = options.manualDirtyLogProtect;
  if (allowed === 0)
    throw kernelError("EINVAL", "KVM_ENABLE_CAP", "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is not supported");
  if ((flags & ~allowed) !== 0) {
    throw kernelError(
      "EINVAL",
      "KVM_ENABLE_CAP",
      `manual-protect flags 0x${flags.toString(16)} are not within 0x${allowed.toString(16)}`,
    );
  }
  mode.manualProtect = flags;
}

/** Whether a slot that starts logging begins with every page dirty (`kvm_dirty_log_manual_protect_and_init_set`). */
export function initiallySet(mode: DirtyLogMode): boolean {
  const both = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
  return (mode.manualProtect & both) === both;
}

/**
 * Before a write to pages `first..last` of a logging slot: with the ring on, every page
 * still protected needs an entry in the writer's ring. A vCPU whose ring has no room would
 * have exited with KVM_EXIT_DIRTY_RING_FULL before its store; the mock refuses the write.
 */
export function roomToMarkDirty(
  mode: DirtyLogMode,
  writer: number | undefined,
  slot: SlotState,
  first: number,
  last: number,
): void {
  if (mode.rings.bytes === 0) return;
  let fresh = 0;
  for (let p = first; p <= last; p++) if (!slot.dirty!.has(p)) fresh++;
  if (fresh > 0 && !mode.rings.room(writer, fresh)) {
    throw new MockKvmUsageError(
      writer === undefined && !mode.rings.room(undefined, 0)
        ? "with the dirty ring on, a guest write needs a vCPU (whose ring takes the page)"
        : "the dirty ring is full: the vCPU would have exited with KVM_EXIT_DIRTY_RING_FULL; reap and reset first",
      "gpa",
    );
  }
}

/** `mark_page_dirty_in_slot`: the bitmap takes the pages, or the ring an entry per page still protected. */
export function markDirty(
  mode: DirtyLogMode,
  writer: number | undefined,
  slot: SlotState,
  first: number,
  last: number,
): void {
  const dirty = slot.dirty!;
  for (let p = first; p <= last; p++) {
    if (mode.rings.bytes !== 0 && !dirty.has(p)) mode.rings.push(writer, slot, p);
    dirty.add(p);
  }
}

/** Bytes of a slot's dirty bitmap: one bit per page, rounded up to whole 64-bit words. */
export function bitmapBytes(slot: SlotState, hostPageSize: number): number {
  const pages = Number(slot.memorySize / BigInt(hostPageSize));
  return Math.ceil(pages / 64) * 8;
}

function checkRange(options: ResolvedOptions, slot: number, op: string): void {
  if (slotAsId(slot) >= options.addressSpaces || slotId(slot) >= options.nrMemslots) {
    throw kernelError("EINVAL", op, `slot ${slot} is out of range`);
  }
}

/** The logging slot a dirty-log ioctl names (its id already in range), or the kernel's ENOENT. */
function loggingSlot(table: MemslotTable, slot: number, op: string): SlotState {
  const state = table.get(slot);
  if (state?.dirty == null) throw kernelError("ENOENT", op, `slot ${slot} does not log dirty pages`);
  return state;
}

/** The ring and the bitmap exclude each other: with the ring on, the bitmap ioctls are ENXIO. */
function refuseWithRing(mode: DirtyLogMode, op: string): void {
  if (mode.rings.bytes !== 0) throw kernelError("ENXIO", op, "the dirty ring is enabled: there is no dirty bitmap");
}

/** KVM_GET_DIRTY_LOG: hand out the bitmap, and clear it unless manual protect leaves that to KVM_CLEAR_DIRTY_LOG. */
export function getDirtyLog(
  table: MemslotTable,
  options: ResolvedOptions,
  mode: DirtyLogMode,
  slot: number,
): Uint8Array {
  refuseWithRing(mode, "KVM_GET_DIRTY_LOG");
  checkRange(options, slot, "KVM_GET_DIRTY_LOG");
  const state = loggingSlot(table, slot, "KVM_GET_DIRTY_LOG");
  const dirty = state.dirty!;
  const bitmap = new Uint8Array(bitmapBytes(state, options.hostPageSize));
  for (const page of dirty) bitmap[page >> 3]! |= 1 << (page & 7);
  if ((mode.manualProtect & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) === 0) dirty.clear();
  return bitmap;
}

/**
 * KVM_CLEAR_DIRTY_LOG: clear the pages whose bits are set in `bitmap`, bit 0 being
 * `firstPage`. `firstPage` must be a multiple of 64 and the range must lie in the slot;
 * `numPages` must be a multiple of 64 unless the range runs to the slot's end.
 */
export function clearDirtyLog(
  table: MemslotTable,
  options: ResolvedOptions,
  mode: DirtyLogMode,
  slot: number,
  firstPage: bigint,
  numPages: number,
  bitmap: Uint8Array,
): void {
  const op = "KVM_CLEAR_DIRTY_LOG";
  refuseWithRing(mode, op);
  checkRange(options, slot, op);
  if (firstPage % 64n !== 0n) throw kernelError("EINVAL", op, `first_page ${firstPage} is not a multiple of 64`);
  const state = loggingSlot(table, slot, op);
  const npages = state.memorySize / BigInt(options.hostPageSize);
  const count = BigInt(numPages);
  if (firstPage > npages || count > npages - firstPage || (count < npages - firstPage && numPages % 64 !== 0)) {
    throw kernelError("EINVAL", op, `pages ${firstPage}+${numPages} do not fit slot ${slot} (${npages} pages)`);
  }
  const needed = Math.ceil(numPages / 64) * 8;
  if (bitmap.length < needed) {
    throw kernelError("EFAULT", op, `bitmap holds ${bitmap.length} bytes, ${needed} are read`);
  }
  const first = Number(firstPage);
  for (let bit = 0; bit < needed * 8; bit++) {
    if ((bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0) state.dirty!.delete(first + bit);
  }
}
