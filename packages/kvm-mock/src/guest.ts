import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from "@memtopo/kvm";
import { describeValue, type EventNotifier, leBytes, loadLe } from "@memtopo/region-tree";
import type { CoalescedZones } from "./coalesced.js";
import { type DirtyLogMode, markDirty, roomToMarkDirty } from "./dirty-log.js";
import { MockKvmUsageError } from "./errors.js";
import type { HostMemory } from "./host-memory.js";
import type { IoeventfdTable } from "./ioeventfds.js";
import type { MemslotTable, SlotState } from "./memslots.js";

/**
 * What became of a simulated guest write:
 * - `ram`: a writable slot took it (and marked its pages dirty if it logs);
 * - `ioeventfd`: the kernel matched an ioeventfd and signalled its notifier, no exit;
 * - `coalesced`: a coalesced zone held the write back in the ring, no exit (drained later);
 * - `mmio-exit` / `pio-exit`: the vCPU exits to userspace (`readonly` slot or `unbacked` address for MMIO).
 */
export type GuestWriteResult =
  | { readonly kind: "ram"; readonly slot: number }
  | { readonly kind: "ioeventfd"; readonly notifier: EventNotifier }
  | { readonly kind: "coalesced" }
  | { readonly kind: "mmio-exit"; readonly reason: "readonly" | "unbacked" }
  | { readonly kind: "pio-exit" };

export interface GuestContext {
  readonly slots: MemslotTable;
  readonly ioeventfds: IoeventfdTable;
  readonly coalesced: CoalescedZones;
  readonly memory: HostMemory;
  readonly hostPageSize: number;
  readonly dirtyLog: DirtyLogMode;
  /** The vCPU that writes (its dirty ring takes the pages); absent for a write the test makes. */
  readonly writer?: number;
}

/** The little-endian bytes of a `size`-byte store of `value`, and the value such a store carries. */
export function storeBytes(data: Uint8Array | bigint | number, size: number | undefined): [Uint8Array, bigint] {
  if (data instanceof Uint8Array) {
    if (data.length === 0) throw new MockKvmUsageError("a guest write needs at least one byte", "data");
    if (size !== undefined && size !== data.length) {
      throw new MockKvmUsageError(`size ${size} differs from the ${data.length} bytes given`, "size");
    }
    return [data.slice(), data.length <= 8 ? loadLe(data) : 0n];
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new MockKvmUsageError(`a store of a value is 1, 2, 4 or 8 bytes, got ${describeValue(size)}`, "size");
  }
  if (
    (typeof data !== "bigint" && !Number.isSafeInteger(data)) ||
    BigInt(data) < 0n ||
    BigInt(data) >> BigInt(size * 8) !== 0n
  ) {
    throw new MockKvmUsageError(`value ${describeValue(data)} does not fit in ${size} bytes`, "data");
  }
  const value = BigInt(data);
  return [leBytes(value, size), value];
}

/** Slot of `asId` that the access `[gpa, +length)` lies in; an access half in, half out is no single access. */
function slotFor(ctx: GuestContext, asId: number, gpa: bigint, length: number): SlotState | undefined {
  const end = gpa + BigInt(length);
  const touched = ctx.slots
    .list()
    .filter((s) => s.asId === asId && gpa < s.guestPhysAddr + s.memorySize && s.guestPhysAddr < end);
  const slot = touched[0];
  if (
    slot !== undefined &&
    (touched.length > 1 || gpa < slot.guestPhysAddr || end > slot.guestPhysAddr + slot.memorySize)
  ) {
    throw new MockKvmUsageError(
      `access 0x${gpa.toString(16)}+${length} straddles the edge of slot ${slot.slot}`,
      "gpa",
    );
  }
  return slot;
}

export function guestWrite(
  ctx: GuestContext,
  asId: number,
  gpa: bigint,
  bytes: Uint8Array,
  value: bigint,
): GuestWriteResult {
  const slot = slotFor(ctx, asId, gpa, bytes.length);
  if (slot !== undefined && (slot.flags & KVM_MEM_READONLY) === 0) {
    const offset = gpa - slot.guestPhysAddr;
    const logging = (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    const page = BigInt(ctx.hostPageSize);
    const first = Number(offset / page);
    const last = Number((offset + BigInt(bytes.length) - 1n) / page);
    if (logging) roomToMarkDirty(ctx.dirtyLog, ctx.writer, slot, first, last);
    ctx.memory.write(slot.userspaceAddr + offset, bytes);
    if (logging) markDirty(ctx.dirtyLog, ctx.writer, slot, first, last);
    return { kind: "ram", slot: slot.slot };
  }
  // Writes to read-only slots and to unbacked addresses are MMIO: the kernel's MMIO bus
  // first (ioeventfds, then coalesced zones; the mock does not model the bus's device order).
  const hit = [1, 2, 4, 8].includes(bytes.length) ? ctx.ioeventfds.match("mmio", gpa, bytes.length, value) : undefined;
  if (hit !== undefined) {
    hit.notifier.signal();
    return { kind: "ioeventfd", notifier: hit.notifier };
  }
  if (ctx.coalesced.tryHold(false, gpa, bytes)) return { kind: "coalesced" };
  return { kind: "mmio-exit", reason: slot === undefined ? "unbacked" : "readonly" };
}

export function guestPioWrite(ctx: GuestContext, port: number, value: bigint, size: number): GuestWriteResult {
  const hit = ctx.ioeventfds.match("pio", BigInt(port), size, value);
  if (hit !== undefined) {
    hit.notifier.signal();
    return { kind: "ioeventfd", notifier: hit.notifier };
  }
  const bytes = leBytes(value, size);
  if (ctx.coalesced.tryHold(true, BigInt(port), bytes)) return { kind: "coalesced" };
  return { kind: "pio-exit" };
}

/** The bytes a guest read sees, or null when the read is an MMIO exit (no slot backs it). */
export function guestRead(ctx: GuestContext, asId: number, gpa: bigint, length: number): Uint8Array | null {
  const slot = slotFor(ctx, asId, gpa, length);
  if (slot === undefined) return null;
  return ctx.memory.read(slot.userspaceAddr + (gpa - slot.guestPhysAddr), length);
}
