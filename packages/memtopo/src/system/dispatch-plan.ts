import {
  bswap,
  deviceIsBigEndian,
  loadLe,
  MEMTX_DECODE_ERROR,
  MEMTX_OK,
  type MemoryRegion,
  type MemoryRegionOps,
  type MemTxAttrs,
  type MemTxResult,
  storeLe,
} from "@memtopo/region-tree";
import { UNASSIGNED_MEM_OPS } from "./builtin-ops.js";
import { type AccessEnv, checkedDeviceValue, dispatchRead, dispatchWrite, memoryAccessSize } from "./region-access.js";

/** The access sizes a guest exit carries, as bits of a mask (size & mask). */
const EXIT_SIZES = [1, 2, 4, 8] as const;

/**
 * What QEMU's access rules decide from one ops object alone, decided once instead of at every
 * access: `memory_access_size`'s maximum, the sizes `memory_region_access_valid` takes and for
 * which `access_with_adjusted_size` makes exactly one device call, the byte order, the callbacks.
 * Ops are frozen when their region is created (QEMU's `const MemoryRegionOps`), so a plan is
 * valid for as long as its ops live. Every field has one type, so the access path reads one
 * object shape whatever the device's ops look like.
 */
export class DispatchPlan {
  readonly ops: MemoryRegionOps;
  /** `valid.max_access_size` or 4; `sizeByOps` when it is no integer in [.., 2^32] (the general path decides). */
  readonly maxAccess: number;
  readonly sizeByOps: boolean;
  readonly implUnaligned: boolean;
  readonly validUnaligned: boolean;
  /**
   * The sizes (1, 2, 4, 8 as bits) of an access at an address aligned to it (or at any address
   * with `valid.unaligned`) that is valid without asking `valid.accepts` and reaches the device as
   * one call of that size. Other accesses take the per-access path, which decides the same.
   */
  readonly wholeWrites: number;
  readonly wholeReads: number;
  /** QEMU's `unassigned_mem_ops`: refuses every access with MEMTX_DECODE_ERROR. */
  readonly refusesAll: boolean;
  readonly bigEndianOnLittleTarget: boolean;
  readonly bigEndianOnBigTarget: boolean;
  /** The callbacks, called with the ops as `this`: read here, they are loads of one shape. */
  readonly read: MemoryRegionOps["read"];
  readonly write: MemoryRegionOps["write"];
  readonly readWithAttrs: MemoryRegionOps["readWithAttrs"];
  readonly writeWithAttrs: MemoryRegionOps["writeWithAttrs"];

  constructor(ops: MemoryRegionOps) {
    this.ops = ops;
    this.read = ops.read;
    this.write = ops.write;
    this.readWithAttrs = ops.readWithAttrs;
    this.writeWithAttrs = ops.writeWithAttrs;
    const max = ops.valid?.maxAccessSize || 4;
    this.maxAccess = max;
    this.sizeByOps = !Number.isInteger(max) || max > 0x1_0000_0000;
    this.implUnaligned = ops.impl?.unaligned === true;
    this.validUnaligned = ops.valid?.unaligned === true;
    const oneCall = (size: number) => {
      const valid = ops.valid;
      if (valid?.accepts !== undefined) return false;
      const validMax = valid?.maxAccessSize ?? 0;
      if (validMax !== 0 && !(size <= validMax && size >= (valid?.minAccessSize ?? 0))) return false;
      const piece = Math.max(Math.min(size, ops.impl?.maxAccessSize || 4), ops.impl?.minAccessSize || 1);
      return piece === size;
    };
    let writes = 0;
    let reads = 0;
    for (const size of EXIT_SIZES) {
      if (!oneCall(size)) continue;
      if (ops.write !== undefined || ops.writeWithAttrs !== undefined) writes |= size;
      if (ops.read !== undefined || ops.readWithAttrs !== undefined) reads |= size;
    }
    this.wholeWrites = writes;
    this.wholeReads = reads;
    this.refusesAll = ops === UNASSIGNED_MEM_OPS;
    this.bigEndianOnLittleTarget = deviceIsBigEndian(ops.endianness, false);
    this.bigEndianOnBigTarget = deviceIsBigEndian(ops.endianness, true);
  }
}

/**
 * `memoryAccessSize(plan.ops, remaining, addr)`, with the maximum taken from the plan and the
 * alignment from `low`, the low 32 bits of `addr`. A property test holds the two equal.
 */
export function planAccessSize(plan: DispatchPlan, remaining: number, addr: bigint, low: number): number {
  if (plan.sizeByOps) return memoryAccessSize(plan.ops, remaining, addr);
  let max = plan.maxAccess;
  if (!plan.implUnaligned) {
    if (low !== 0) {
      const align = (low & -low) >>> 0;
      if (align < max) max = align;
    }
  }
  const l = remaining > max ? max : remaining;
  if (l >= 1 && l <= 0x7fff_ffff && Number.isInteger(l)) return 1 << (31 - Math.clz32(l));
  return 2 ** Math.floor(Math.log2(l));
}

/** Whether an access of `size` at an address whose low 32 bits are `low` is one the plan answers alone. */
function whole(plan: DispatchPlan, sizes: number, low: number, size: number): boolean {
  return (
    size > 0 &&
    (sizes & size) === size &&
    (size & (size - 1)) === 0 &&
    (size === 1 || plan.validUnaligned || (low & (size - 1)) === 0)
  );
}

/**
 * `dispatchWrite` of the `size` bytes of `data` at `pos` (host order) to `addr` (`low`: its low 32 bits), through the plan: an access
 * the plan answers is one device call with no check left to make; any other takes the per-access
 * path, which a property test holds equal to this.
 */
export function planWrite(
  mr: MemoryRegion | null,
  plan: DispatchPlan,
  addr: bigint,
  low: number,
  data: Uint8Array,
  pos: number,
  size: number,
  attrs: MemTxAttrs,
  env: AccessEnv,
): MemTxResult {
  if (plan.refusesAll) return MEMTX_DECODE_ERROR;
  const value = loadLe(data, pos, size);
  // Userspace ioeventfds are matched against the value on the per-access path.
  if (
    !whole(plan, plan.wholeWrites, low, size) ||
    (env.userspaceIoeventfds && mr !== null && mr.ioeventfds.length > 0)
  ) {
    return dispatchWrite(mr, plan.ops, addr, value, size, attrs, env);
  }
  const bigEndian = env.targetBigEndian ? plan.bigEndianOnBigTarget : plan.bigEndianOnLittleTarget;
  const device = bigEndian ? bswap(value, size) : value;
  if (plan.write !== undefined) {
    plan.write.call(plan.ops, addr, device, size);
    return MEMTX_OK;
  }
  return plan.writeWithAttrs!.call(plan.ops, addr, device, size, attrs);
}

/** `dispatchRead` of `size` bytes at `addr` into `data` at `pos` (host order), through the plan. */
export function planRead(
  mr: MemoryRegion | null,
  plan: DispatchPlan,
  addr: bigint,
  low: number,
  data: Uint8Array,
  pos: number,
  size: number,
  attrs: MemTxAttrs,
  env: AccessEnv,
): MemTxResult {
  if (plan.refusesAll) {
    storeLe(data, pos, size, 0n);
    return MEMTX_DECODE_ERROR;
  }
  if (!whole(plan, plan.wholeReads, low, size)) {
    const r = dispatchRead(mr, plan.ops, addr, size, attrs, env);
    storeLe(data, pos, size, r.value);
    return r.result;
  }
  let raw: unknown;
  let result = MEMTX_OK;
  if (plan.read !== undefined) {
    raw = plan.read.call(plan.ops, addr, size);
  } else {
    const r = plan.readWithAttrs!.call(plan.ops, addr, size, attrs);
    raw = r.value;
    result = r.result;
  }
  const value = checkedDeviceValue(mr, raw);
  const bigEndian = env.targetBigEndian ? plan.bigEndianOnBigTarget : plan.bigEndianOnLittleTarget;
  // storeLe keeps the low `size` bytes: the device's value masked to the access, as QEMU's.
  storeLe(data, pos, size, bigEndian ? bswap(value & SIZE_MASKS[size]!, size) : value);
  return result;
}

/** `(1n << BigInt(8 * size)) - 1n` for the exit sizes. */
const SIZE_MASKS: readonly bigint[] = Array.from({ length: 9 }, (_, i) => (1n << BigInt(8 * i)) - 1n);

const plans = new WeakMap<MemoryRegionOps, DispatchPlan>();
const UNASSIGNED_PLAN = new DispatchPlan(UNASSIGNED_MEM_OPS);

/** The plan of `ops` (see `opsOf` for the ops an access to a region is dispatched to). */
export function planOf(ops: MemoryRegionOps): DispatchPlan {
  if (ops === UNASSIGNED_MEM_OPS) return UNASSIGNED_PLAN;
  let plan = plans.get(ops);
  if (plan === undefined) {
    plan = new DispatchPlan(ops);
    plans.set(ops, plan);
  }
  return plan;
}
