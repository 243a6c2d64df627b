import { EXACT_LIMIT, toDouble } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";
import { buildRangeTables } from "./range-tables.js";

/**
 * The search structure behind `FlatView.lookup` for addresses below 2^53, built once per
 * view: range starts and ends as doubles (bigint compares cost several times more), and a
 * radix table over [0, span) whose slots give the few ranges that can hold an address
 * (range-tables.ts). Slot widths are powers of two, so finding a slot is exact arithmetic;
 * crowded slots get finer tables, so dense clusters in a sparse map (the 64-bit PCI hole far
 * above RAM) still end in a short search.
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

  readonly #tables: Float64Array;
  readonly #slots: Int32Array;

  constructor(ranges: readonly FlatRange[]) {
    const starts = new Float64Array(ranges.length);
    const ends = new Float64Array(ranges.length);
    const top = mirrorEdges(ranges, starts, ends);
    let span = top === 0 ? 0 : 1;
    while (span < top && span < EXACT_LIMIT) span *= 2;
    this.starts = starts;
    this.ends = ends;
    this.span = span;
    const { tables, slots } = buildRangeTables(starts, span);
    this.#tables = tables;
    this.#slots = slots;
  }

  /**
   * The last range starting at or below `a` (an integer in [0, span)), or -1: the one range
   * that can hold `a`, which the caller checks against its end.
   */
  candidate(a: number): number {
    const tables = this.#tables;
    const slots = this.#slots;
    let slot: number;
    for (let t = 0; ; ) {
      // Exact: a - base is an integer below 2^53 and the scale a power of two.
      slot = tables[3 * t + 2]! + (((a - tables[3 * t]!) * tables[3 * t + 1]!) | 0);
      t = slots[2 * slot + 1]!;
      if (t === 0) break;
    }
    // At most LEAF_STARTS (range-tables.ts) starts to pass: counting them without branches beats a binary
    // search, whose every step is a coin toss for the branch predictor.
    const starts = this.starts;
    const end = slots[2 * slot + 2]!;
    let i = slots[2 * slot]! - 1;
    for (let k = i + 1; k < end; k++) i += +(starts[k]! <= a);
    return i;
  }
}

/**
 * Fills `starts` and `ends` with the ranges' edges as doubles and returns the end of the
 * last range that starts below 2^53 (0 if none). A function of its own: a long loop in a
 * constructor kept deoptimizing on the field stores after it.
 */
function mirrorEdges(ranges: readonly FlatRange[], starts: Float64Array, ends: Float64Array): number {
  let top = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const start = toDouble(r.start);
    // A size is in (0, 2^64], so 0 here is 2^64. The sum is exact when both are below 2^53,
    // and otherwise at least 2^53, which is all a lookup needs.
    const size = toDouble(r.size);
    const end = start + (size === 0 ? 2 ** 64 : size);
    starts[i] = start;
    ends[i] = end;
    if (start < EXACT_LIMIT) top = end;
  }
  return top;
}
