import { canMerge, type FlatRange } from "./flat-range.js";
import type { BigIntInterner } from "./interner.js";

/**
 * Appends `r` to `out`, merged into the last range when `canMerge` allows: the step of QEMU's
 * `flatview_simplify`, and of every splice that joins new ranges to old ones. A merged range's size
 * goes through `interner` when given.
 */
export function pushMerged(out: FlatRange[], r: FlatRange, interner?: BigIntInterner): void {
  const last = out[out.length - 1];
  if (last !== undefined && canMerge(last, r)) {
    const size = last.size + r.size;
    out[out.length - 1] = { ...last, size: interner === undefined ? size : interner.intern(size) };
  } else out.push(r);
}

/** QEMU's `flatview_simplify`: merge each run of ranges that `canMerge` left to right. */
export function simplify(ranges: readonly FlatRange[], interner?: BigIntInterner): FlatRange[] {
  const out: FlatRange[] = [];
  for (const r of ranges) pushMerged(out, r, interner);
  return out;
}
