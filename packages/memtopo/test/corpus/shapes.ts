import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "../../src/index.js";

// Generators for the attack shapes (too big to keep as files): each gives the same input every time.

/** A machine file whose one container holds `n` 4 KiB RAM regions side by side. */
export function wideMachineFile(n: number): unknown {
  const subregions = [];
  for (let i = 0; i < n; i++) {
    subregions.push({
      id: `r${i}`,
      name: `r${i}`,
      kind: "ram",
      size: "0x1000",
      addr: `0x${(i * 0x1000).toString(16)}`,
    });
  }
  return {
    format: "memtopo-machine/1",
    name: "wide",
    accel: "tcg",
    addressSpaces: [{ name: "memory", root: "top" }],
    regions: [{ id: "top", name: "system", kind: "container", size: "0x10000000000", subregions }],
  };
}

/** A chain of `depth` containers, each the only child of the one above, with a RAM leaf at the bottom. */
export function deepTree(system: MemorySystem, depth: number): { top: MemoryRegion; leaf: MemoryRegion } {
  const top = new MemoryRegion(system, { kind: "container", name: "level0", size: 0x10000n });
  system.begin();
  let at = top;
  for (let i = 1; i < depth; i++) {
    const next = new MemoryRegion(system, { kind: "container", name: `level${i}`, size: 0x10000n });
    at.addSubregion(0n, next);
    at = next;
  }
  const leaf = new MemoryRegion(system, { kind: "ram", name: "leaf", size: 0x1000n });
  at.addSubregion(0n, leaf);
  system.commit();
  return { top, leaf };
}

/** `info mtree` text with one region line indented `levels` levels under the root. */
export function deeplyIndentedMtree(levels: number): string {
  return [
    "address-space: memory",
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
    `${"  ".repeat(levels)}0000000000000000-0000000000000fff (prio 0, ram): deep`,
    "",
  ].join("\n");
}
