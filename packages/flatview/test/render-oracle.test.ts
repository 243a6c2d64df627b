import { SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canMerge, getFlatViewRoot, renderFlatView } from "../src/index.js";
import { buildTree, treeRecipe } from "./arbitrary-tree.js";
import { serve } from "./oracle.js";

/** A seed whose first large tree renders to more than 128 ranges (the renderer's chunk size). */
const SEED_OF_A_LARGE_VIEW = 11;

function probes(ranges: readonly { start: bigint; size: bigint }[], extra: bigint[]): bigint[] {
  const out = new Set<bigint>(extra);
  for (const r of ranges) {
    for (const a of [r.start - 1n, r.start, r.start + r.size - 1n, r.start + r.size]) out.add(a);
  }
  return [...out].filter((a) => a >= 0n && a < SIZE_2_64);
}

function regionEdges(all: ReturnType<typeof buildTree>["all"]): bigint[] {
  const edges: bigint[] = [];
  for (const mr of all) {
    let base = 0n;
    for (let m: typeof mr | null = mr; m !== null; m = m.container) base += m.addr;
    edges.push(base - 1n, base, base + mr.size - 1n, base + mr.size, base + mr.size / 2n);
  }
  return edges;
}

function checkAgainstOracle(top: boolean, large = false, numRuns = 400, seed?: number): number {
  let largest = 0;
  fc.assert(
    fc.property(treeRecipe(top, large), (steps) => {
      const { root, all } = buildTree(steps);
      const view = renderFlatView(root);
      const viewRoot = getFlatViewRoot(root);
      const ranges = view.ranges;
      largest = Math.max(largest, ranges.length);
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i]!;
        expect(r.size > 0n).toBe(true);
        expect(r.start + r.size <= SIZE_2_64).toBe(true);
        if (i > 0) {
          const prev = ranges[i - 1]!;
          expect(prev.start + prev.size <= r.start).toBe(true);
          expect(canMerge(prev, r)).toBe(false);
        }
      }
      for (const addr of probes(ranges, regionEdges(all))) {
        const expected = serve(viewRoot, addr);
        const got = view.lookup(addr);
        if (expected === null) {
          expect(got).toBeUndefined();
          continue;
        }
        expect(got).toBeDefined();
        expect(got!.mr).toBe(expected.mr);
        expect(BigInt.asUintN(64, got!.offsetInRegion + (addr - got!.start))).toBe(BigInt.asUintN(64, expected.offset));
        expect(got!.readonly).toBe(expected.readonly);
        expect(got!.nonvolatile).toBe(expected.nonvolatile);
        expect(got!.romdMode).toBe(expected.mr.romdMode);
      }
    }),
    seed === undefined ? { numRuns } : { numRuns, seed },
  );
  return largest;
}

describe("FlatView equals the per-address oracle (render_memory_region)", () => {
  it("on random trees with aliases, overlaps, disabled regions and priorities", () => {
    checkAgainstOracle(false);
  });

  it("on random trees touching the 2^64 edge", () => {
    checkAgainstOracle(true);
  });

  it("on large random trees (views of hundreds of ranges, past one chunk of the range list)", () => {
    checkAgainstOracle(false, true, 4);
  });

  it("on a large tree whose view holds more ranges than one chunk of the range list (fixed seed)", () => {
    expect(checkAgainstOracle(false, true, 1, SEED_OF_A_LARGE_VIEW)).toBeGreaterThan(128);
  });
});
