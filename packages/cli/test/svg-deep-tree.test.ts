import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { pictureLanes, type RegionPath, regionsAt, renderMemoryMapSvg } from "../src/svg/index.js";

// No recursion over user-sized data: a tree is as deep as its builder made it (the renderer draws a chain of
// 100 000 containers), so the picture's walk from a view root down to the serving region must not recurse either.
// A recursive walk overflowed the stack at about 10 000 levels.

const DEPTH = 100_000;

/** system ▸ c0 ▸ … ▸ c(depth-1) ▸ bottom (RAM), over a lower-priority RAM `low` that the chain hides. */
function deepChain(depth: number) {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  system.addSubregionOverlap(0n, new MemoryRegion(sys, { kind: "ram", name: "low", size: 0x1000n }), -1);
  let holder = system;
  for (let i = 0; i < depth; i++) {
    const c = new MemoryRegion(sys, { kind: "container", name: `c${i}`, size: 0x1000n });
    holder.addSubregion(0n, c);
    holder = c;
  }
  const bottom = new MemoryRegion(sys, { kind: "ram", name: "bottom", size: 0x1000n });
  holder.addSubregion(0n, bottom);
  const as = sys.createAddressSpace("memory", system);
  return { system, bottom, as };
}

describe(`a chain of ${DEPTH} containers`, { timeout: 300_000 }, () => {
  const { system, bottom, as } = deepChain(DEPTH);

  it("regionsAt walks down without recursion: the winner's path has every level, then what it hides", () => {
    const found = regionsAt(system, 0x10n);
    const winner = found.next();
    expect(winner.done).toBe(false);
    const path = winner.value!;
    expect(path).toHaveLength(DEPTH + 2);
    expect(path[0]!.mr).toBe(system);
    expect(path[DEPTH]!.mr.name).toBe(`c${DEPTH - 1}`);
    expect(path.at(-1)!.mr).toBe(bottom);
    const hidden = found.next().value as RegionPath | undefined;
    expect(hidden?.map((s) => s.mr.name)).toEqual(["system", "low"]);
    expect(found.next().done).toBe(true);
  });

  it("the picture names the bottom RAM, its whole path, and the region it hides", () => {
    expect(as.currentMap.ranges.map((r) => r.mr)).toEqual([bottom]);
    const [lane] = pictureLanes([as]);
    const range = lane!.ranges[0]!;
    expect(range.name).toBe("bottom");
    expect(range.path).toHaveLength(DEPTH + 2);
    expect(range.path[1]).toEqual({ name: "c0", priority: 0, alias: false });
    expect(range.via).toEqual([]);
    expect(range.beneath).toEqual({ name: "low", kind: "ram", priority: -1 });
    const svg = renderMemoryMapSvg([as]);
    expect(svg).toContain(`c${DEPTH - 1} ▸ bottom`);
  });
});

describe("RAM nested in RAM, 20 000 levels: each level claims the byte the one below wins", () => {
  it("the ancestors on the winner's path are not taken for what it hides", () => {
    const levels = 20_000;
    const sys = new MemorySystem();
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    let holder = system;
    for (let i = 0; i < levels; i++) {
      // QEMU lets a RAM region hold subregions; they cover it where they are.
      const r = new MemoryRegion(sys, { kind: "ram", name: `r${i}`, size: 0x1000n });
      holder.addSubregion(0n, r);
      holder = r;
    }
    const as = sys.createAddressSpace("memory", system);
    const [lane] = pictureLanes([as]);
    expect(lane!.ranges).toHaveLength(1);
    expect(lane!.ranges[0]!.name).toBe(`r${levels - 1}`);
    // The view's root is r0: QEMU's flat-view root skips a container whose only child covers it from 0.
    expect(lane!.rootName).toBe("r0");
    expect(lane!.ranges[0]!.path).toHaveLength(levels);
    // Every other claimant is an ancestor of the winner: a region is cut by its subregions, not hidden.
    expect(lane!.ranges[0]!.beneath).toBeNull();
  });
});
