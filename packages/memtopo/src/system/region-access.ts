import {
  bswap,
  deviceIsBigEndian,
  ioeventfdEqual,
  low32,
  MEMTX_DECODE_ERROR,
  MEMTX_OK,
  type MemoryRegion,
  type MemoryRegionOps,
  type MemTxAttrs,
  type MemTxResult,
  wrap64,
} from "@memtopo/region-tree";
import { DeviceOpsError } from "./errors.js";

/** What the access rules need to know about the system. */
export interface AccessEnv {
  readonly targetBigEndian: boolean;
  /** True when no kernel matches ioeventfds (anything but KVM): writes check them in userspace. */
  readonly userspaceIoeventfds: boolean;
  /** `qemu_flush_coalesced_mmio_buffer`, for regions that ask for it before dispatch. */
  readonly flushCoalescedMmio: () => void;
  /** `invalidate_and_set_dirty`: bytes written directly into a RAM region dirty its pages for the region's clients. */
  readonly markDirty?: (mr: MemoryRegion, offset: bigint, length: number) => void;
}

const U64 = (1n << 64n) - 1n;

/*
 * Every exit of a guest goes through here, so the common cases avoid making bigints: a
 * bigint operation allocates, and between two KVM_RUNs nothing is in the caches. Small
 * shifts, masks and offsets come from tables; low address bits are read through a typed
 * array. Anything outside the tables takes the general bigint path, with the same result.
 */
/** `BigInt(i)` for 0 <= i < 256. */
const SMALL: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));
/** `(1n << BigInt(8 * i)) - 1n` for 0 <= i <= 8. */
const BYTE_MASKS: readonly bigint[] = Array.from({ length: 9 }, (_, i) => (1n << BigInt(8 * i)) - 1n);

function small(i: number): bigint {
  return i >= 0 && i < 256 ? SMALL[i]! : BigInt(i);
}

function byteMask(bytes: number): bigint {
  return bytes >= 0 && bytes <= 8 ? BYTE_MASKS[bytes]! : (1n << BigInt(8 * bytes)) - 1n;
}

/**
 * QEMU's `memory_access_size`: the largest power of two that is at most the remaining
 * length, `valid.max_access_size` (0 means 4) and, unless `impl.unaligned`, the alignment of `addr`.
 */
export function memoryAccessSize(ops: MemoryRegionOps, remaining: number, addr: bigint): number {
  let max = ops.valid?.maxAccessSize || 4;
  if (!Number.isInteger(max) || max > 0x1_0000_0000) return memoryAccessSizeBig(ops, remaining, addr);
  if (!ops.impl?.unaligned) {
    // The lowest set bit of addr; if it lies above bit 31 it is at least 2^32, not below max.
    const low = low32(addr);
    if (low !== 0) {
      const align = (low & -low) >>> 0;
      if (align < max) max = align;
    }
  }
  const l = remaining > max ? max : remaining;
  // 2 ** Math.floor(Math.log2(l)), from the bit count where l is a 31-bit integer.
  if (l >= 1 && l <= 0x7fff_ffff && Number.isInteger(l)) return 1 << (31 - Math.clz32(l));
  return 2 ** Math.floor(Math.log2(l));
}

/** The same in bigints, for a `maxAccessSize` the fast path does not cover (and its RangeError). */
function memoryAccessSizeBig(ops: MemoryRegionOps, remaining: number, addr: bigint): number {
  let max = ops.valid?.maxAccessSize || 4;
  if (!ops.impl?.unaligned) {
    const align = wrap64(addr & -addr);
    if (align !== 0n && align < BigInt(max)) max = Number(align);
  }
  const l = BigInt(remaining) > BigInt(max) ? max : remaining;
  return 2 ** Math.floor(Math.log2(l));
}

/** QEMU's `memory_region_access_valid`, in its order of checks. */
export function accessValid(
  ops: MemoryRegionOps,
  addr: bigint,
  size: number,
  isWrite: boolean,
  attrs: MemTxAttrs,
): boolean {
  const valid = ops.valid;
  if (valid?.accepts !== undefined && !valid.accepts(addr, size, isWrite, attrs)) return false;
  if (!valid?.unaligned && misaligned(addr, size)) return false;
  const max = valid?.maxAccessSize ?? 0;
  if (max === 0) return true;
  return size <= max && size >= (valid?.minAccessSize ?? 0);
}

/** `(addr & BigInt(size - 1)) !== 0n`. */
function misaligned(addr: bigint, size: number): boolean {
  if (size === 1) return false;
  if (size >= 1 && size <= 0x8000_0000 && Number.isInteger(size)) return (low32(addr) & (size - 1)) !== 0;
  return (addr & BigInt(size - 1)) !== 0n;
}

/**
 * QEMU's `memory_region_dispatch_read`: validity, then the device's callbacks through
 * `access_with_adjusted_size`, then the byte-order adjustment, so that the caller gets the
 * value in host (little-endian) order whatever the device's order. `mr` null is a gap.
 */
export function dispatchRead(
  mr: MemoryRegion | null,
  ops: MemoryRegionOps,
  addr: bigint,
  size: number,
  attrs: MemTxAttrs,
  env: AccessEnv,
): { value: bigint; result: MemTxResult } {
  if (!accessValid(ops, addr, size, false, attrs)) return { value: 0n, result: MEMTX_DECODE_ERROR };
  if (ops.read === undefined && ops.readWithAttrs === undefined) return { value: 0n, result: MEMTX_DECODE_ERROR };
  const bigEndian = deviceIsBigEndian(ops.endianness, env.targetBigEndian);
  const min = ops.impl?.minAccessSize || 1;
  const max = ops.impl?.maxAccessSize || 4;
  const piece = Math.max(Math.min(size, max), min);
  const mask = byteMask(piece);
  let value = 0n;
  let result = MEMTX_OK;
  for (let i = 0; i < size; i += piece) {
    const shift = bigEndian ? (size - piece - i) * 8 : i * 8;
    const at = i === 0 ? addr : wrap64(addr + small(i));
    let raw: unknown;
    if (ops.read !== undefined) {
      raw = ops.read(at, piece);
    } else {
      const r = ops.readWithAttrs!(at, piece, attrs);
      raw = r.value;
      result |= r.result;
    }
    const bits = checkedDeviceValue(mr, raw) & mask;
    if (shift === 0 && piece <= 8) value = value === 0n ? bits : value | bits;
    else value |= shift >= 0 ? (bits << small(shift)) & U64 : bits >> small(-shift);
  }
  return { value: bigEndian ? bswap(value, size) : value, result };
}

/**
 * QEMU's `memory_region_dispatch_write`: validity, byte-order adjustment, the userspace
 * ioeventfd check (`memory_region_dispatch_write_eventfds`: the first matching record of the region is signalled and the
 * device is not called), then `access_with_adjusted_size`. `value` is in host order.
 */
export function dispatchWrite(
  mr: MemoryRegion | null,
  ops: MemoryRegionOps,
  addr: bigint,
  valueIn: bigint,
  size: number,
  attrs: MemTxAttrs,
  env: AccessEnv,
): MemTxResult {
  if (!accessValid(ops, addr, size, true, attrs)) return MEMTX_DECODE_ERROR;
  const bigEndian = deviceIsBigEndian(ops.endianness, env.targetBigEndian);
  const value = bigEndian ? bswap(valueIn, size) : valueIn;
  if (env.userspaceIoeventfds && mr !== null && mr.ioeventfds.length > 0) {
    for (const record of mr.ioeventfds) {
      const probe = {
        start: addr,
        size: BigInt(size),
        matchData: record.matchData,
        data: value,
        notifier: record.notifier,
      };
      if (ioeventfdEqual(probe, record)) {
        record.notifier.signal();
        return MEMTX_OK;
      }
    }
  }
  if (ops.write === undefined && ops.writeWithAttrs === undefined) return MEMTX_DECODE_ERROR;
  const min = ops.impl?.minAccessSize || 1;
  const max = ops.impl?.maxAccessSize || 4;
  const piece = Math.max(Math.min(size, max), min);
  const mask = byteMask(piece);
  let result = MEMTX_OK;
  for (let i = 0; i < size; i += piece) {
    const shift = bigEndian ? (size - piece - i) * 8 : i * 8;
    let bits: bigint;
    if (shift === 0) bits = value >= 0n && value <= mask ? value : value & mask;
    else bits = shift > 0 ? (value >> small(shift)) & mask : (value << small(-shift)) & mask;
    const at = i === 0 ? addr : wrap64(addr + small(i));
    if (ops.write !== undefined) ops.write(at, bits, piece);
    else result |= ops.writeWithAttrs!(at, bits, piece, attrs);
  }
  return result;
}

/** What a device's read returned, which must be a bigint (a device bug otherwise, reported as such). */
export function checkedDeviceValue(mr: MemoryRegion | null, raw: unknown): bigint {
  if (typeof raw !== "bigint") {
    throw new DeviceOpsError("E_DEVICE_READ_VALUE", `${label(mr)}: read returned ${typeof raw}, not a bigint`);
  }
  return raw;
}

function label(mr: MemoryRegion | null): string {
  if (mr === null) return "unassigned";
  return mr.name === null ? `region #${mr.id}` : `region "${mr.name}"`;
}
