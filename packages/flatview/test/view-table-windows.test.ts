import { MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { FlatViewTable, renderFlatView } from "../src/index.js";

// At a commit the view table renders a changed view again in windows, or in full when the windows are
// too many to pay (each window's render walks the siblings on its way). Either way the view is the
// full render's (QEMU's generate_memory_topology); editOf says which way it went.

function machine() {
  const host = new StandaloneHost();
  const table = new FlatViewTable<{ root: MemoryRegion }>(
    (mr) => mr.dirtyLogMask,
    () => 0,
  );
  host.topologyWillChange = (mr) => table.willChange(mr);
  host.topologyChanged = () => table.didChange();
  const system = new MemoryRegion(host, { kind: "container", name: "system", size: SIZE_2_64 });
  // Two children, so that `system` itself is the view root (one child at 0 would stand in for it).
  system.addSubregion(0n, new MemoryRegion(host, { kind: "ram", name: "low", size: 0x1000n }));
  system.addSubregion(0x1_0000_0000n, new MemoryRegion(host, { kind: "ram", name: "high", size: 0x1000n }));
  const user = { root: system };
  table.join(user);
  return { host, table, system, user };
}

const plain = (ranges: readonly { mr: MemoryRegion; start: bigint; size: bigint }[]) =>
  ranges.map((r) => `${r.mr.name}@${r.start}+${r.size}`);

function addSpaced(host: StandaloneHost, system: MemoryRegion, count: number): void {
  for (let i = 0; i < count; i++) {
    const dev = new MemoryRegion(host, { kind: "io", name: `dev${i}`, size: 0x100n, ops: {} });
    system.addSubregion(0x10000n + BigInt(i) * 0x1000n, dev);
  }
}

describe("FlatViewTable renders a view again in windows, or in full past 64 windows (generate_memory_topology is the oracle)", () => {
  it("three separate new regions: rendered in their windows, the view comes with its edit", () => {
    const { host, table, system, user } = machine();
    addSpaced(host, system, 3);
    const view = table.reset().get(user)!;
    expect(plain(view.ranges)).toEqual(plain(renderFlatView(system).ranges));
    // The three windows lie between the same two old ranges, so they make one splice of three new ranges.
    // (Five while the table recorded the changes made before any view existed, `low` and `high`, whose
    // windows were then rendered again for nothing.)
    expect(table.editOf(view)?.splices.map((s) => s.ranges.length)).toEqual([3]);
  });

  it("a hundred separate new regions in one commit: rendered in full, equal to the full render", () => {
    const { host, table, system, user } = machine();
    addSpaced(host, system, 100);
    const view = table.reset().get(user)!;
    expect(view.ranges).toHaveLength(102);
    expect(plain(view.ranges)).toEqual(plain(renderFlatView(system).ranges));
    expect(table.editOf(view)).toBeUndefined();
  });
});
