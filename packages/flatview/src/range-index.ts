import type { FlatRange } from "./flat-range.js";

/** Below 2^53 every address and every range edge is an exact double, so lookups there compare numbers. */
export const EXACT_LIMIT = 2 ** 53;
/** A table slot holding more range starts than this gets a finer table of its own. */
const LEAF_STARTS = 8;
/** The fewest slots a table has (unless its window is narrower): fewer would rarely split anything. */
const MIN_SLOTS = 16;

/**
 * The search structure behind `FlatView.lookup` for addresses below 2^53, built once per
 * view: range starts and ends as doubles (bigint compares cost several times more), and a
 * radix table over [0, span) whose slots give the few ranges that can hold an address.
 * Slot widths are powers of two, so finding a slot is exact arithmetic. A slot with more
 * than LEAF_STARTS starts gets a finer table, so dense clusters in a sparse map (the
 * 64-bit PCI hole far above RAM) still end in a short search.
 */
export class RangeIndex {
  /** `Number(start)` of each range: exact below 2^53, rounded (monotonically) above. */
  readonly starts: Float64Array;
  /** `Number(start + size)` of each range; a range reaching past 2^53 compares above every exact address. */
  readonly ends: Float64Array;
  /**
   * A power of two at or above the end of every range that starts below 2^53 (at most 2^53):
   * an address from here to 2^53 is unassigned.
   */
  readonly span: number;

  /** Per table: the address its slot 0 starts at, 1 / slot width, and where its slots begin. */
  readonly #tableBase: Float64Array;
  readonly #tableScale: Float64Array;
  readonly #tableSlots: Int32Array;
  /**
   * Per slot (tables laid end to end, each with one slot more than it has, to close the last
   * window): how many ranges start at or below the slot's first address. The ranges that can
   * hold an address in slot k are those from `firstAbove[k] - 1` to `firstAbove[k + 1] - 1`.
   */
  readonly #firstAbove: Int32Array;
  /** Per slot: the table that splits it further, or 0 (table 0 is the root, never a child). */
  readonly #child: Int32Array;

  constructor(ranges: readonly FlatRange[]) {
    const n = ranges.length;
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    let top = 0;
    for (let i = 0; i < n; i++) {
      const r = ranges[i]!;
      this.starts[i] = Number(r.start);
      this.ends[i] = Number(r.start + r.size);
      if (this.starts[i]! < EXACT_LIMIT) top = this.ends[i]!;
    }
    let span = top === 0 ? 0 : 1;
    while (span < top && span < EXACT_LIMIT) span *= 2;
    this.span = span;

    const base: number[] = [];
    const scale: number[] = [];
    const slots: number[] = [];
    const firstAbove: number[] = [];
    const child: number[] = [];
    const starts = this.starts;
    const countUpTo = (x: number, from: number): number => {
      let i = from;
      while (i < n && starts[i]! <= x) i++;
      return i;
    };
    const addTable = (at: number, width: number, lo: number, hi: number): number => {
      const id = base.length;
      const count = Math.min(width, Math.max(MIN_SLOTS, nextPowerOfTwo(hi - lo)));
      const slotWidth = width / count;
      base.push(at);
      scale.push(1 / slotWidth);
      slots.push(firstAbove.length);
      const first = firstAbove.length;
      let i = lo;
      for (let k = 0; k <= count; k++) {
        i = countUpTo(at + k * slotWidth, i);
        firstAbove.push(i);
        child.push(0);
      }
      for (let k = 0; k < count; k++) {
        const from = firstAbove[first + k]!;
        const to = firstAbove[first + k + 1]!;
        if (to - from > LEAF_STARTS) child[first + k] = addTable(at + k * slotWidth, slotWidth, from, to);
      }
      return id;
    };
    if (span > 0) addTable(0, span, countUpTo(0, 0), n);
    this.#tableBase = Float64Array.from(base);
    this.#tableScale = Float64Array.from(scale);
    this.#tableSlots = Int32Array.from(slots);
    this.#firstAbove = Int32Array.from(firstAbove);
    this.#child = Int32Array.from(child);
  }

  /**
   * The last range starting at or below `a` (an integer in [0, span)), or -1: the one range
   * that can hold `a`, which the caller checks against its end.
   */
  candidate(a: number): number {
    let table = 0;
    let slot: number;
    for (;;) {
      // Exact: a - base is an integer below 2^53 and the scale a power of two.
      slot = this.#tableSlots[table]! + (((a - this.#tableBase[table]!) * this.#tableScale[table]!) | 0);
      const next = this.#child[slot]!;
      if (next === 0) break;
      table = next;
    }
    const starts = this.starts;
    let lo = this.#firstAbove[slot]!;
    let hi = this.#firstAbove[slot + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a < starts[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo - 1;
  }
}

function nextPowerOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
