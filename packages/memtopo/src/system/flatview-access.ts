import type { FlatView } from "@memtopo/flatview";
import {
  MEMTX_ACCESS_ERROR,
  MEMTX_OK,
  type MemoryRegion,
  type MemTxAttrs,
  type MemTxResult,
} from "@memtopo/region-tree";
import { opsOf } from "./builtin-ops.js";
import { type AccessEnv, dispatchRead, dispatchWrite, memoryAccessSize } from "./region-access.js";

const NO_ATTRS: MemTxAttrs = Object.freeze({});

interface Translation {
  /** The terminating region, or null for a gap (QEMU's section #0, `io_mem_unassigned`). */
  readonly mr: MemoryRegion | null;
  /** Offset inside `mr` (for a gap: the address itself). */
  readonly xlat: bigint;
  /** Length this step may cover: clamped to the range's end for RAM, untouched otherwise. */
  readonly len: bigint;
}

/**
 * QEMU's `flatview_translate` without IOMMUs: MMIO lengths are not clamped to the range,
 * because a device may expect a full-width access that overlaps its neighbours (port 0xcf8).
 */
function translate(view: FlatView, addr: bigint, len: bigint): Translation {
  const range = view.lookup(addr);
  if (range === undefined) return { mr: null, xlat: addr, len };
  const xlat = BigInt.asUintN(64, addr - range.start + range.offsetInRegion);
  if (!range.mr.ram) return { mr: range.mr, xlat, len };
  const left = range.start + range.size - addr;
  return { mr: range.mr, xlat, len: left < len ? left : len };
}

/** QEMU's `memory_access_is_direct`. */
function isDirect(mr: MemoryRegion | null, isWrite: boolean): boolean {
  if (mr === null) return false;
  if (isWrite) return mr.ram && !mr.readonly && !mr.romDevice && !mr.ramDevice;
  return (mr.ram && !mr.ramDevice) || mr.isRomd;
}

/**
 * QEMU's `flatview_read`/`flatview_write` with their `_continue` loops: each step
 * translates the current address; RAM is copied directly from/to the RAM block (clamped
 * to the block, as `qemu_ram_ptr_length` does), everything else is cut by
 * `memory_access_size` and dispatched to the region's ops. Results are OR-ed.
 * `data` is read into or written from in place (zero-copy for the KVM run loop).
 */
export function flatviewAccess(
  view: FlatView,
  addrIn: bigint,
  data: Uint8Array,
  isWrite: boolean,
  attrsIn: MemTxAttrs | undefined,
  env: AccessEnv,
): MemTxResult {
  const attrs = attrsIn ?? NO_ATTRS;
  let remaining = BigInt(data.length);
  if (remaining === 0n) return MEMTX_OK;
  let addr = addrIn;
  let pos = 0;
  let result = MEMTX_OK;
  let first = true;
  for (;;) {
    const t = translate(view, addr, remaining);
    let l = t.len;
    if (attrs.memory && (t.mr === null || !t.mr.ram)) {
      // flatview_access_allowed: refused at once on the first step, accumulated later on.
      if (first) return MEMTX_ACCESS_ERROR;
      result |= MEMTX_ACCESS_ERROR;
    } else if (isDirect(t.mr, isWrite)) {
      const bytes = t.mr!.ramBlock!.bytes();
      const x = Number(t.xlat);
      const n = Math.min(Number(l), bytes.length - x);
      if (isWrite) bytes.set(data.subarray(pos, pos + n), x);
      else data.set(bytes.subarray(x, x + n), pos);
      l = BigInt(n);
    } else {
      // prepare_mmio_access: held-back coalesced writes reach the device before this access.
      if (t.mr?.flushCoalescedMmio) env.flushCoalescedMmio();
      const ops = opsOf(t.mr);
      const size = memoryAccessSize(ops, l, t.xlat);
      l = BigInt(size);
      if (isWrite) {
        result |= dispatchWrite(t.mr, ops, t.xlat, readLe(data, pos, size), size, attrs, env);
      } else {
        const r = dispatchRead(t.mr, ops, t.xlat, size, attrs, env);
        writeLe(data, pos, size, r.value);
        result |= r.result;
      }
    }
    first = false;
    remaining -= l;
    if (remaining === 0n) return result;
    pos += Number(l);
    addr = BigInt.asUintN(64, addr + l);
  }
}

/** The bytes of an MMIO step as a host-order (little-endian) integer, as QEMU's `ldn_he_p`. */
function readLe(data: Uint8Array, pos: number, size: number): bigint {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[pos + i]!);
  return value;
}

function writeLe(data: Uint8Array, pos: number, size: number, value: bigint): void {
  for (let i = 0; i < size; i++) data[pos + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}
