import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// A found-by-fuzzing case (repeated names): a ROM `pci` holds an i/o `pci` and a RAM device,
// both (nearly) 2^64 bytes at its start (a RAM device stops a page short: its RAM block's length is 64-bit). The i/o one comes first in render order, so the flat view's
// `rom: pci` line is its own content, read-only through the ROM. The ROM's own content
// cannot be what prints there: the RAM device would render before it.
const machine: MachineJson = {
  format: "memtopo-machine/1",
  name: "hidden-io",
  addressSpaces: [{ name: "memory", root: "s" }],
  regions: [
    {
      id: "s",
      name: "system",
      kind: "container",
      size: "0x10000000000000000",
      subregions: [
        {
          id: "rom",
          name: "pci",
          kind: "rom",
          addr: "0x12b0",
          priority: 1,
          size: "0x10",
          subregions: [
            { id: "dev", name: "dev", kind: "ram-device", addr: "0x0", priority: 0, size: "0xfffffffffffff000" },
            { id: "io", name: "pci", kind: "io", addr: "0x0", priority: 1, size: "0x10000000000000000" },
          ],
        },
      ],
    },
  ],
};

describe("importQemu attributes a range to the region that renders first (render_memory_region's order)", () => {
  it("an i/o region's own content is not mistaken for its ROM container's when a RAM device lies between", () => {
    const original = loadMachine(machine);
    const tree = printMtree(original.addressSpaces, { disabled: true });
    const flat = printMtreeFlat(original.addressSpaces);
    expect(flat).toContain("00000000000012b0-00000000000012bf (prio 1, rom): pci\n");
    const imported = loadMachine(importQemu({ tree, flat }).machine);
    expect(printMtreeFlat(imported.addressSpaces)).toBe(flat);
    expect(printMtree(imported.addressSpaces, { disabled: true })).toBe(tree);
  });
});
