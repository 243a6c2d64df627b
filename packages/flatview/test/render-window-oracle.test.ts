import { SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlatView, getFlatViewRoot, renderWindow, simplify } from "../src/index.js";
import { buildTree, treeRecipe } from "./arbitrary-tree.js";
import { serve } from "./oracle.js";

// A window render (what an incremental commit splices in) stops as soon as its whole window is
// filled: nothing visited later can show, since content only fills what is still free. The oracle is
// the per-address walk: inside the window each address is served as the oracle says, outside nothing.

function edges(all: ReturnType<typeof buildTree>["all"]): bigint[] {
  const out: bigint[] = [];
  for (const mr of all) {
    let base = 0n;
    for (let m: typeof mr | null = mr; m !== null; m = m.container) base += m.addr;
    out.push(base, base + mr.size, base + mr.size / 2n);
  }
  return out.filter((a) => a >= 0n && a <= SIZE_2_64);
}

describe("renderWindow equals the per-address oracle inside its window (render_memory_region with a clip)", () => {
  it("on random trees and random windows between region edges, filled or not", () => {
    let filledWindows = 0;
    fc.assert(
      fc.property(treeRecipe(), fc.nat(), fc.nat(), (steps, i, j) => {
        const { root, all } = buildTree(steps);
        const viewRoot = getFlatViewRoot(root);
        if (viewRoot === null) return;
        const cuts = [0n, SIZE_2_64, ...edges(all)];
        let a = cuts[i % cuts.length]!;
        let b = cuts[j % cuts.length]!;
        if (a > b) [a, b] = [b, a];
        if (a === b) return;
        const view = new FlatView(viewRoot, simplify(renderWindow(viewRoot, a, b)));
        let covered = 0n;
        for (const r of view.ranges) {
          expect(r.start >= a && r.start + r.size <= b).toBe(true);
          covered += r.size;
        }
        if (covered === b - a) filledWindows++;
        const probes = new Set<bigint>([a, b - 1n, b]);
        for (const e of edges(all)) for (const p of [e - 1n, e]) if (p >= 0n && p < SIZE_2_64) probes.add(p);
        for (const addr of probes) {
          const got = view.lookup(addr);
          if (addr < a || addr >= b) {
            expect(got).toBeUndefined();
            continue;
          }
          const want = serve(viewRoot, addr);
          if (want === null) {
            expect(got).toBeUndefined();
            continue;
          }
          expect(got?.mr).toBe(want.mr);
          expect(BigInt.asUintN(64, got!.offsetInRegion + (addr - got!.start))).toBe(BigInt.asUintN(64, want.offset));
          expect(got!.readonly).toBe(want.readonly);
          expect(got!.nonvolatile).toBe(want.nonvolatile);
        }
      }),
      { numRuns: 500 },
    );
    // The early stop must have been taken, or this test would not hold it to the oracle.
    expect(filledWindows).toBeGreaterThan(3);
  });
});
