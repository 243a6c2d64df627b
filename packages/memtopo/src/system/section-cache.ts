import type { FlatRange, FlatView } from "@memtopo/flatview";
import { bigFromSafeInteger, u64ToDouble } from "./region-access.js";

/** Below 2^53 addresses and offsets are exact doubles. */
const EXACT_LIMIT = 2n ** 53n;

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
  /** Whether the last translate() returned the kept range (for bytesLeft). */
  #lastKept = false;
  /** The offset in the region (for a gap: the address itself) of the last translate(). */
  xlat = 0n;

  /** `view.lookup(addr)`, leaving the offset of `addr` in the range's region in {@link xlat}. `addr` is in [0, 2^64). */
  translate(view: FlatView, addr: bigint): FlatRange | undefined {
    if (view === this.#view) {
      // Rounded above 2^53, but monotonically, and #hi is at most 2^53: only exact addresses hit.
      const a = u64ToDouble(addr);
      if (a >= this.#lo && a < this.#hi) {
        if (a !== this.#lastAddr) {
          this.#lastAddr = a;
          this.#lastXlat = bigFromSafeInteger(a + this.#base);
        }
        this.xlat = this.#lastXlat;
        this.#lastKept = true;
        return this.#range;
      }
    }
    const range = view.lookup(addr);
    this.#lastKept = false;
    if (range === undefined) {
      this.xlat = addr;
      return undefined;
    }
    const xlat = BigInt.asUintN(64, addr - range.start + range.offsetInRegion);
    this.xlat = xlat;
    if (range.start + range.size <= EXACT_LIMIT && range.offsetInRegion + range.size <= EXACT_LIMIT) {
      this.#view = view;
      this.#range = range;
      this.#lo = Number(range.start);
      this.#hi = Number(range.start + range.size);
      this.#base = Number(range.offsetInRegion) - this.#lo;
      this.#lastAddr = Number(addr);
      this.#lastXlat = xlat;
      this.#lastKept = true;
    }
    return range;
  }

  /**
   * The bytes from `addr` to the end of `range`, both those of the last translate() (a
   * number: exact below 2^53, more than any access length above; 2^64 for a range of 2^64).
   */
  bytesLeft(range: FlatRange, addr: bigint): number {
    if (this.#lastKept) return this.#hi - this.#lastAddr;
    return u64ToDouble(range.start + range.size - addr) || 2 ** 64;
  }
}
