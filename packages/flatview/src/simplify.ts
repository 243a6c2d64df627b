import { canMerge, type FlatRange } from "./flat-range.js";

/** QEMU's `flatview_simplify`: merge each run of ranges that `canMerge` left to right. */
export function simplify(ranges: readonly FlatRange[]): FlatRange[] {
  const out: FlatRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && canMerge(last, r)) {
      out[out.length - 1] = { ...last, size: last.size + r.size };
    } else {
      out.push(r);
    }
  }
  return out;
}
