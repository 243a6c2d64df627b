import { MemoryRegion, RegionTreeError, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AddrWindow,
  coalesce,
  type FlatRange,
  type FlatView,
  getFlatViewRoot,
  regionWindows,
  renderFlatView,
  rerenderFlatView,
  rerenderWithEdit,
  type ViewEdit,
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

/** The edit's splices, applied to `edit.from`, give exactly `ranges`: the same objects outside the splices. */
function expectEditMakes(edit: ViewEdit, ranges: readonly FlatRange[]): void {
  const old = edit.from.ranges;
  const rebuilt: FlatRange[] = [];
  let copied = 0;
  for (const s of edit.splices) {
    expect(s.oldStart).toBeGreaterThanOrEqual(copied);
    expect(s.oldEnd).toBeGreaterThanOrEqual(s.oldStart);
    for (let k = copied; k < s.oldStart; k++) rebuilt.push(old[k]!);
    expect(s.newStart).toBe(rebuilt.length);
    rebuilt.push(...s.ranges);
    copied = s.oldEnd;
  }
  for (let k = copied; k < old.length; k++) rebuilt.push(old[k]!);
  expect(rebuilt).toHaveLength(ranges.length);
  for (const [k, r] of rebuilt.entries()) expect(ranges[k]).toBe(r);
}

describe("incremental rendering equals a full render (the full renderer is the oracle)", () => {
  it("after random mutation sequences, re-rendering only the changed regions' windows gives the full view", () => {
    let incremental = 0;
    fc.assert(
      fc.property(treeRecipe(), fc.array(mutationArb, { minLength: 1, maxLength: 25 }), (steps, mutations) => {
        const { host, root, all } = buildTree(steps);
        let viewRoot = getFlatViewRoot(root);
        let view = renderFlatView(root);
        // A view root's own addr shifts its whole view but schedules nothing (`memory_region_set_address`):
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
          const { view: next, edit } = rerenderWithEdit(view, coalesce([...windows, ...after].flat() as AddrWindow[]));
          expect(edit.from).toBe(view);
          expectEditMakes(edit, next.ranges);
          view = next;
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
    // A second enabled child keeps `system` the view root (`memory_region_get_flatview_root`).
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

  it("a window in a gap splices only its own neighbourhood: the ranges far from it stay the same objects", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    for (let i = 0n; i < 8n; i++) {
      system.addSubregion(i * 0x10000n, new MemoryRegion(host, { kind: "io", name: `dev${i}`, size: 0x100n }));
    }
    const before = renderFlatView(system);
    const bar = new MemoryRegion(host, { kind: "io", name: "bar", size: 0x100n });
    system.addSubregion(0x48000n, bar);
    const { view, edit } = rerenderWithEdit(before, windowsIn(bar, system)!);
    expect(plain(view)).toEqual(plain(renderFlatView(system)));
    expect(edit.splices).toEqual([{ oldStart: 5, oldEnd: 5, newStart: 5, ranges: [view.ranges[5]] }]);
    expectEditMakes(edit, view.ranges);
  });
});
