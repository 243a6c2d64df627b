import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

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

/**
 * `info mtree` text (and its `-f` view) where `system` holds an alias `a0` of `t1`, each `t<i>` an alias of
 * `t<i+1>` printed in a `memory-region:` section of its own, down to the RAM `t<hops>`: a chain of alias
 * targets as long as the text, with no line indented more than two levels.
 */
export function aliasChainMtree(hops: number): { tree: string; flat: string } {
  const window = "0000000000000000-0000000000000fff";
  const lines = [
    "address-space: memory",
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
    `    ${window} (prio 0, ram): alias a0 @t1 ${window}`,
    "",
  ];
  for (let i = 1; i < hops; i++) {
    lines.push(`memory-region: t${i}`, `  ${window} (prio 0, ram): alias t${i} @t${i + 1} ${window}`, "");
  }
  // QEMU ends every block with an empty line.
  lines.push(`memory-region: t${hops}`, `  ${window} (prio 0, ram): t${hops}`, "", "");
  const flat = [
    "FlatView #0",
    ' AS "memory", root: system',
    " Root memory region: system",
    `  ${window} (prio 0, ram): t${hops}`,
    "",
  ];
  return { tree: lines.join("\n"), flat: flat.join("\n") };
}

/**
 * A plain `info mtree` dump of `spaces` address spaces, each over a root of its own holding `perSpace` RAM and
 * I/O regions side by side at priorities 0 to 2 (the shape of the import benchmark in bench/scale.bench.mjs).
 */
export function spacesDump(spaces: number, perSpace: number): string {
  const hex = (v: number): string => v.toString(16).padStart(16, "0");
  const lines: string[] = [];
  for (let k = 0; k < spaces; k++) {
    lines.push(`address-space: as${k}`, `  0000000000000000-ffffffffffffffff (prio 0, i/o): root${k}`);
    for (let i = 0; i < perSpace; i++) {
      const kind = i % 4 === 3 ? "i/o" : "ram";
      lines.push(`    ${hex(i * 0x1000)}-${hex(i * 0x1000 + 0xfff)} (prio ${i % 3}, ${kind}): dev${k}.${i}`);
    }
    lines.push("");
  }
  lines.push("");
  return lines.join("\n");
}
