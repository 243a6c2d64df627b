import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's `info mtree -f` lists each FlatView's spaces in creation order, and a space belongs to the view its own root
// renders (memory_region_get_flatview_root). Two bus-master containers of one name whose aliases of `system` differ
// only in being enabled print the same ` AS` line: which of them a line is comes from the view it is listed under,
// and the creation order read from the flat text must follow the same blocks.

const tree = [
  "address-space: memory",
  "  0000000000000000-000000000000ffff (prio 0, i/o): system",
  "    0000000000000000-0000000000000fff (prio 0, ram): ram",
  "",
  "address-space: dev0",
  "address-space: dev1",
  "  0000000000000000-000000000000ffff (prio 0, i/o): bus master container",
  "    0000000000000000-000000000000ffff (prio 0, i/o): alias bus master @system 0000000000000000-000000000000ffff [disabled]",
  "",
  "address-space: dev1",
  "  0000000000000000-000000000000ffff (prio 0, i/o): bus master container",
  "    0000000000000000-000000000000ffff (prio 0, i/o): alias bus master @system 0000000000000000-000000000000ffff",
  "",
  "memory-region: system",
  "  0000000000000000-000000000000ffff (prio 0, i/o): system",
  "    0000000000000000-0000000000000fff (prio 0, ram): ram",
  "",
  "",
].join("\n");

const flat = [
  "FlatView #0",
  ' AS "memory", root: system',
  ' AS "dev1", root: bus master container',
  " Root memory region: ram",
  "  0000000000000000-0000000000000fff (prio 0, ram): ram",
  "",
  "FlatView #1",
  ' AS "dev0", root: bus master container',
  ' AS "dev1", root: bus master container',
  " Root memory region: (none)",
  "  No rendered FlatView",
  "",
  "",
].join("\n");

describe("a FlatView lists the spaces whose roots render it, in creation order", () => {
  it("a space listed under a view is created in its order on the look-alike root that renders the view", () => {
    const { machine } = importQemu({ tree, flat });
    // A root renders a view when it holds an enabled subregion (the alias of `system`, or `system`'s ram).
    const renders = (root: string): boolean | undefined =>
      machine.regions.find((r) => r.id === root)?.subregions?.some((c) => c.enabled !== false);
    expect(machine.addressSpaces.map((s) => [s.name, renders(s.root)])).toEqual([
      ["memory", true],
      ["dev1", true],
      ["dev0", false],
      ["dev1", false],
    ]);
    const back = loadMachine(machine);
    expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
    expect(printMtree(back.addressSpaces, { disabled: true, order: back.mtreeOrder })).toBe(tree);
  });
});
