import { MemoryRegion } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AddrWindow, coalesce, regionWindows } from "../src/index.js";
import { seedWindows } from "../src/region-windows.js";
import { buildTree, treeRecipe } from "./arbitrary-tree.js";

// The view table walks every region a transaction changed in one seedWindows call. The oracle is
// regionWindows of each region on its own: one walk must find exactly the union of the separate ones.

const key = (windows: readonly AddrWindow[]) => coalesce(windows).map((w) => `${w.start}-${w.end}`);

describe("seedWindows: one walk of many seeds finds what separate walks find (the window rule of memory_region_update_pending's re-render)", () => {
  it("for random trees and random sets of changed regions, per view root", () => {
    fc.assert(
      fc.property(treeRecipe(), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (steps, picks) => {
        const { root, all } = buildTree(steps);
        const roots = new Set([root, ...all.filter((_, i) => i % 5 === 3)]);
        const changed = picks.map((p) => all[p % all.length]!);
        const together = seedWindows(
          changed.map((mr) => ({ x: mr, lo: 0n, hi: mr.size })),
          roots,
        );
        const separate = changed.map((mr) => regionWindows(mr, roots));
        if (separate.some((f) => f === null)) {
          expect(together).toBeNull();
          return;
        }
        expect(together).not.toBeNull();
        for (const r of roots) {
          const union = separate.flatMap((f) => f!.get(r) ?? []);
          expect(key(together!.get(r) ?? [])).toEqual(key(union));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a seed may reach past its region's current size (a region that shrank still re-renders where it showed before)", () => {
    const { root, all } = buildTree([]);
    const host = root.host;
    const small = new MemoryRegion(host, { kind: "ram", name: "shrunk", size: 0x100n });
    root.addSubregion(0x1000n, small);
    expect(all).toEqual([root]);
    const found = seedWindows([{ x: small, lo: 0n, hi: 0x300n }], new Set([root]));
    expect(found!.get(root)).toEqual([{ start: 0x1000n, end: 0x1300n }]);
    expect(regionWindows(small, new Set([root]))!.get(root)).toEqual([{ start: 0x1000n, end: 0x1100n }]);
  });
});
