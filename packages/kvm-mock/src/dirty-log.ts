import { kernelError } from "./errors.js";
import { type MemslotTable, type SlotState, slotAsId, slotId } from "./memslots.js";
import type { ResolvedOptions } from "./options.js";

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

/** KVM_GET_DIRTY_LOG without manual protect: hand out the bitmap and clear it. */
export function getDirtyLog(table: MemslotTable, options: ResolvedOptions, slot: number): Uint8Array {
  checkRange(options, slot, "KVM_GET_DIRTY_LOG");
  const state = loggingSlot(table, slot, "KVM_GET_DIRTY_LOG");
  const dirty = state.dirty!;
  const bitmap = new Uint8Array(bitmapBytes(state, options.hostPageSize));
  for (const page of dirty) bitmap[page >> 3]! |= 1 << (page & 7);
  dirty.clear();
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
  slot: number,
  firstPage: bigint,
  numPages: number,
  bitmap: Uint8Array,
): void {
  const op = "KVM_CLEAR_DIRTY_LOG";
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
