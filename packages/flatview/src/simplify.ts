import { canMerge, type FlatRange } from "./flat-range.js";

/**
 * Appends `r` to `out`, merged into the last range when `canMerge` allows: the step of QEMU's
 * `flatview_simplify`, and of every splice that joins new ranges to old ones.
 */
export function pushMerged(out: FlatRange[], r: FlatRange): void {
  const last = out[out.length - 1];
  if (last !== undefined && canMerge(last, r)) out[out.length - 1] = { ...last, size: last.size + r.size };
  else out.push(r);
}

/** QEMU's `flatview_simplify`: merge each run of ranges that `canMerge` left to right. */
export function simplify(ranges: readonly FlatRange[]): FlatRange[] {
  const out: FlatRange[] = [];
  for (const r of ranges) pushMerged(out, r);
  return out;
}
