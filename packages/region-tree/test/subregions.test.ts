import { describe, expect, it } from "vitest";
import { MemoryRegion, RegionTreeError, SIZE_2_64, StandaloneHost, UINT64_MAX } from "../src/index.js";

function io(host: StandaloneHost, name: string, size = 0x1000n): MemoryRegion {
  return new MemoryRegion(host, { kind: "io", name, size });
}

describe("insertion position (memory_region_update_container_subregions)", () => {
  it("inserts before the first sibling whose priority is <= its own (worked example A B D E F)", () => {
    const host = new StandaloneHost();
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x100000n });
    const [a, b, d, e, f] = ["A", "B", "D", "E", "F"].map((n) => io(host, n)) as [
      MemoryRegion,
      MemoryRegion,
      MemoryRegion,
      MemoryRegion,
      MemoryRegion,
    ];
    c.addSubregionOverlap(0n, a, 0);
    c.addSubregionOverlap(0n, b, 0);
    c.addSubregionOverlap(0n, d, 1);
    c.addSubregionOverlap(0n, e, 0);
    c.addSubregionOverlap(0n, f, -1);
    expect(c.subregions.map((r) => r.name)).toEqual(["D", "E", "B", "A", "F"]);
  });

  it("set_address moves the region to the front of its priority group (memory_region_readd_subregion)", () => {
    const host = new StandaloneHost();
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x100000n });
    const regions = ["A", "B", "D", "E", "F"].map((n) => io(host, n));
    const prio = [0, 0, 1, 0, -1];
    for (const [i, r] of regions.entries()) c.addSubregionOverlap(0n, r, prio[i]!);
    regions[1]!.setAddress(0x2000n);
    expect(c.subregions.map((r) => r.name)).toEqual(["D", "B", "E", "A", "F"]);
  });

  it("add_subregion resets a previous priority to 0", () => {
    const host = new StandaloneHost();
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x100000n });
    const r = io(host, "r");
    c.addSubregionOverlap(0n, r, 5);
    c.delSubregion(r);
    expect(r.priority).toBe(5);
    c.addSubregion(0n, r);
    expect(r.priority).toBe(0);
  });
});

describe("sizes (QEMU's Int128 region sizes)", () => {
  it("UINT64_MAX as a size means exactly 2^64", () => {
    const host = new StandaloneHost();
    const sys = new MemoryRegion(host, { kind: "container", name: "system", size: UINT64_MAX });
    expect(sys.size).toBe(SIZE_2_64);
  });
});

describe("misuse is a typed error that leaves the tree unchanged", () => {
  it("a region added to two parents", () => {
    const host = new StandaloneHost();
    const a = new MemoryRegion(host, { kind: "container", name: "a", size: 0x10000n });
    const b = new MemoryRegion(host, { kind: "container", name: "b", size: 0x10000n });
    const r = io(host, "r");
    a.addSubregion(0n, r);
    expect(() => b.addSubregion(0n, r)).toThrow(expect.objectContaining({ code: "E_REGION_HAS_CONTAINER" }));
    expect(b.subregions).toHaveLength(0);
    expect(r.container).toBe(a);
  });

  it("an alias cycle", () => {
    const host = new StandaloneHost();
    const c = new MemoryRegion(host, { kind: "container", name: "c", size: 0x10000n });
    const alias = new MemoryRegion(host, { kind: "alias", name: "loop", size: 0x10000n, target: c, offset: 0n });
    expect(() => c.addSubregion(0n, alias)).toThrow(RegionTreeError);
    expect(c.subregions).toHaveLength(0);
    expect(c.mappedViaAlias).toBe(0);
  });
});
