import { MemoryRegion, RegionTreeError, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AddrWindow,
  coalesce,
  type FlatView,
  getFlatViewRoot,
  regionWindows,
  renderFlatView,
  rerenderFlatView,
} from "../src/index.js";
import { buildTree, treeRecipe } from "./arbitrary-tree.js";

const mutationArb = fc.record({
  op: fc.constantFrom("enable", "address", "size", "readonly", "nonvolatile", "aliasOffset", "move", "remove", "log"),
  a: fc.nat(),
  b: fc.nat(),
  value: fc.bigInt({ min: 0n, max: 0x4000n }),
  flag: fc.boolean(),
});

type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function apply(m: Mutation, all: readonly MemoryRegion[]): void {
  const x = all[m.a % all.length]!;
  const y = all[m.b % all.length]!;
  switch (m.op) {
    case "enable":
      x.setEnabled(m.flag);
      return;
    case "address":
      x.setAddress(m.value);
      return;
    case "size":
      x.setSize(m.value);
      return;
    case "readonly":
      x.setReadonly(m.flag);
      return;
    case "nonvolatile":
      x.setNonvolatile(m.flag);
      return;
    case "aliasOffset":
      x.setAliasOffset(m.value);
      return;
    case "move":
      if (x.container !== null) x.container.delSubregion(x);
      if (y.kind === "container" || y.kind === "io") y.addSubregionOverlap(m.value, x, Number(m.value % 3n) - 1);
      return;
    case "remove":
      if (x.container !== null) x.container.delSubregion(x);
      return;
    case "log":
      if (m.flag || x.dirtyLogMask !== 0) x.setLog(m.flag);
      return;
  }
}

function windowsIn(mr: MemoryRegion, root: MemoryRegion): AddrWindow[] | null {
  const found = regionWindows(mr, new Set([root]));
  return found === null ? null : (found.get(root) ?? []);
}

const plain = (view: FlatView) =>
  view.ranges.map((r) => [
    r.mr.id,
    r.start,
    r.size,
    r.offsetInRegion,
    r.readonly,
    r.nonvolatile,
    r.romdMode,
    r.dirtyLogMask,
  ]);

describe("incremental rendering equals a full render (issue 7; the full renderer is the oracle)", () => {
  it("after random mutation sequences, re-rendering only the changed regions' windows gives the full view", () => {
    let incremental = 0;
    fc.assert(
      fc.property(treeRecipe(), fc.array(mutationArb, { minLength: 1, maxLength: 25 }), (steps, mutations) => {
        const { host, root, all } = buildTree(steps);
        let viewRoot = getFlatViewRoot(root);
        let view = renderFlatView(root);
        // A view root's own addr shifts its whole view but schedules nothing (§10.14):
        // the next commit must notice it and render in full.
        let renderedAddr = viewRoot?.addr;
        for (const m of mutations) {
          const windows: (AddrWindow[] | null)[] = [];
          const changed = new Set<MemoryRegion>();
          host.topologyWillChange = (mr) => {
            changed.add(mr);
            windows.push(viewRoot === null ? null : windowsIn(mr, viewRoot));
          };
          try {
            apply(m, all);
          } catch (e) {
            if (!(e instanceof RegionTreeError)) throw e;
          }
          if (changed.size === 0) continue; // nothing pending: no commit, the old view stays
          const nextRoot = getFlatViewRoot(root);
          const full = renderFlatView(root);
          if (nextRoot !== viewRoot || viewRoot === null || viewRoot.addr !== renderedAddr || windows.includes(null)) {
            viewRoot = nextRoot;
            renderedAddr = viewRoot?.addr;
            view = full;
            continue;
          }
          const after = [...changed].map((mr) => windowsIn(mr, viewRoot!));
          if (after.includes(null)) {
            view = full;
            continue;
          }
          view = rerenderFlatView(view, coalesce([...windows, ...after].flat() as AddrWindow[]));
          incremental++;
          expect(plain(view)).toEqual(plain(full));
        }
      }),
      { numRuns: 400 },
    );
    expect(incremental).toBeGreaterThan(200);
  });

  it("one old range that spans several windows is cut around each and its untouched rest kept", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
    system.addSubregion(0n, ram);
    // A second enabled child keeps `system` the view root (§4.2).
    system.addSubregion(0x100000n, new MemoryRegion(host, { kind: "io", name: "far", size: 0x100n }));
    const devs = [0x1000n, 0x5000n, 0x9000n].map((at) => {
      const dev = new MemoryRegion(host, { kind: "io", name: `dev${at.toString(16)}`, size: 0x100n });
      dev.setEnabled(false);
      system.addSubregionOverlap(at, dev, 1);
      return dev;
    });
    const before = renderFlatView(system);
    expect(before.ranges).toHaveLength(2);
    devs[0]!.setEnabled(true);
    devs[2]!.setEnabled(true);
    const windows = coalesce([devs[0]!, devs[2]!].flatMap((d) => windowsIn(d, system)!));
    expect(plain(rerenderFlatView(before, windows))).toEqual(plain(renderFlatView(system)));
    expect(plain(renderFlatView(system))).toHaveLength(6);
  });

  it("ranges outside the changed windows are reused as the same objects", () => {
    const { root, all } = buildTree([]);
    expect(all).toHaveLength(1);
    const view = renderFlatView(root);
    expect(rerenderFlatView(view, [])).toBe(view);
  });
});
