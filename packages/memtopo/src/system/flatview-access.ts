import type { FlatView } from "@memtopo/flatview";
import {
  MEMTX_ACCESS_ERROR,
  MEMTX_OK,
  type MemoryRegion,
  type MemTxAttrs,
  type MemTxResult,
  toDouble,
  wrap64,
} from "@memtopo/region-tree";
import { planAccessSize, planRead, planWrite } from "./dispatch-plan.js";
import type { AccessEnv } from "./region-access.js";
import type { SectionCache } from "./section-cache.js";

const NO_ATTRS: MemTxAttrs = Object.freeze({});

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
 *
 * Each step is QEMU's `flatview_translate` without IOMMUs: the range's region and the
 * offset in it (through the address space's {@link SectionCache}); the step's length is
 * clamped to the range's end for RAM only, because an MMIO device may expect a full-width
 * access that overlaps its neighbours (port 0xcf8).
 * Lengths and positions are numbers (they never exceed `data.length`); `addrDouble` is
 * `toDouble(addrIn)`, which a caller that has it passes along.
 */
export function flatviewAccess(
  view: FlatView,
  addrIn: bigint,
  data: Uint8Array,
  isWrite: boolean,
  attrsIn: MemTxAttrs | undefined,
  env: AccessEnv,
  sections: SectionCache,
  addrDouble: number = toDouble(addrIn),
): MemTxResult {
  const attrs = attrsIn ?? NO_ATTRS;
  const total = data.length;
  if (total === 0) return MEMTX_OK;
  let addr = addrIn;
  let a = addrDouble;
  let pos = 0;
  let result = MEMTX_OK;
  let first = true;
  for (;;) {
    const remaining = total - pos;
    const range = sections.translate(view, addr, a);
    // A gap is QEMU's section #0 (`io_mem_unassigned`), its offset the address itself.
    const mr = range === undefined ? null : range.mr;
    const xlat = sections.xlat;
    let l = remaining;
    if (mr?.ram) {
      const left = sections.bytesLeft(range!, addr);
      if (left < l) l = left;
    }
    if (attrs.memory && (mr === null || !mr.ram)) {
      // flatview_access_allowed: refused at once on the first step, accumulated later on.
      if (first) return MEMTX_ACCESS_ERROR;
      result |= MEMTX_ACCESS_ERROR;
    } else if (isDirect(mr, isWrite)) {
      // Through a view of the step's part of the block: a block over 4 GiB has no single view.
      const block = mr!.ramBlock!;
      const x = toDouble(xlat);
      const part = block.bytesAt(xlat, Math.min(l, toDouble(block.size) - x));
      const n = part.length;
      if (isWrite) {
        part.set(n === total ? data : data.subarray(pos, pos + n));
        env.markDirty?.(mr!, xlat, n);
      } else data.set(part, pos);
      l = n;
    } else {
      // prepare_mmio_access: held-back coalesced writes reach the device before this access.
      if (mr?.flushCoalescedMmio) env.flushCoalescedMmio();
      const plan = sections.planFor(mr);
      const low = sections.xlatLow;
      const size = planAccessSize(plan, l, xlat, low);
      l = size;
      result |= isWrite
        ? planWrite(mr, plan, xlat, low, data, pos, size, attrs, env)
        : planRead(mr, plan, xlat, low, data, pos, size, attrs, env);
    }
    first = false;
    if (l === remaining) return result;
    pos += l;
    addr = wrap64(addr + BigInt(l));
    a = toDouble(addr);
  }
}
