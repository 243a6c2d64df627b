import type { FlatRange, FlatView } from "@memtopo/flatview";
import { bigFromSafeInteger, EXACT_LIMIT, low32, type MemoryRegion, toDouble, wrap64 } from "@memtopo/region-tree";
import { opsOf } from "./builtin-ops.js";
import { type DispatchPlan, planOf } from "./dispatch-plan.js";

/** {@link EXACT_LIMIT} as a bigint, for comparing a range's edges. */
const EXACT_LIMIT_BIG = BigInt(EXACT_LIMIT);

/**
 * An address space's last translated range, as QEMU keeps `mru_section` per dispatch, and the
 * last offset translated in it. A guest's exits mostly hit one device register after another,
 * and between two KVM_RUNs nothing is in the caches: a hit here reads one object and makes no
 * bigint (`addr - start + offset` would make two), where the view's own lookup reads its index,
 * its range list and the range's bigints. Only ranges that end below 2^53 in the address space
 * and in their region are kept, so the arithmetic on doubles is exact. Views are immutable, so
 * the view's identity is the whole validity check.
 */
export class SectionCache {
  #view: FlatView | null = null;
  #range: FlatRange | undefined;
  /** The range's [start, end) as doubles. */
  #lo = 0;
  #hi = 0;
  /** offsetInRegion - start, as a double: address + this is the offset in the region. */
  #base = 0;
  #lastAddr = -1;
  #lastXlat = 0n;
  #lastXlatLow = 0;
  /** Whether the last translate() returned the kept range (for bytesLeft). */
  #lastKept = false;
  #planRegion: MemoryRegion | null = null;
  #plan: DispatchPlan | undefined;
  /** The offset in the region (for a gap: the address itself) of the last translate(). */
  xlat = 0n;
  /** The low 32 bits of {@link xlat}, as a number: what the alignment rules read. */
  xlatLow = 0;

  /**
   * `view.lookup(addr)`, leaving the offset of `addr` in the range's region in {@link xlat}. `addr` is in
   * [0, 2^64); `a` is `toDouble(addr)`, which a caller that has it passes along.
   */
  translate(view: FlatView, addr: bigint, a: number = toDouble(addr)): FlatRange | undefined {
    if (view === this.#view) {
      // Rounded above 2^53, but monotonically, and #hi is at most 2^53: only exact addresses hit.
      if (a >= this.#lo && a < this.#hi) {
        if (a !== this.#lastAddr) {
          const x = a + this.#base;
          this.#lastAddr = a;
          this.#lastXlat = bigFromSafeInteger(x);
          this.#lastXlatLow = x % 0x1_0000_0000;
        }
        this.xlat = this.#lastXlat;
        this.xlatLow = this.#lastXlatLow;
        this.#lastKept = true;
        return this.#range;
      }
    }
    const range = view.lookup(addr);
    this.#lastKept = false;
    if (range === undefined) {
      this.xlat = addr;
      this.xlatLow = low32(addr);
      return undefined;
    }
    const xlat = wrap64(addr - range.start + range.offsetInRegion);
    this.xlat = xlat;
    this.xlatLow = low32(xlat);
    if (range.start + range.size <= EXACT_LIMIT_BIG && range.offsetInRegion + range.size <= EXACT_LIMIT_BIG) {
      this.#view = view;
      this.#range = range;
      this.#lo = Number(range.start);
      this.#hi = Number(range.start + range.size);
      this.#base = Number(range.offsetInRegion) - this.#lo;
      this.#lastAddr = Number(addr);
      this.#lastXlat = xlat;
      this.#lastXlatLow = this.xlatLow;
      this.#lastKept = true;
    }
    return range;
  }

  /**
   * The dispatch plan of the ops an access to `mr` (null: a gap) goes to, kept for the last region
   * asked about: a region's ops never change, so neither does its plan.
   */
  planFor(mr: MemoryRegion | null): DispatchPlan {
    if (mr !== this.#planRegion || this.#plan === undefined) {
      this.#planRegion = mr;
      this.#plan = planOf(opsOf(mr));
    }
    return this.#plan;
  }

  /**
   * The bytes from `addr` to the end of `range`, both those of the last translate() (a
   * number: exact below 2^53, more than any access length above; 2^64 for a range of 2^64).
   */
  bytesLeft(range: FlatRange, addr: bigint): number {
    if (this.#lastKept) return this.#hi - this.#lastAddr;
    return toDouble(range.start + range.size - addr) || 2 ** 64;
  }
}
