import { fc, test } from "@fast-check/vitest";
import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's flat view lists the address spaces of each view in creation order, a space under the view its root renders;
// the tree text sorts them by name. Many spaces of few names over look-alike roots (bus-master containers of one or
// two names, each with an alias of `system`, enabled or not: the same ` AS` line, another view) must come back in
// the order that prints the same texts.

interface Space {
  readonly name: number;
  readonly root: number;
}

/** `roots` bus-master-like roots (a container with an alias of `system`, every other one disabled), spaces on them. */
function manySpaces(spaces: readonly Space[], roots: number): MachineJson {
  const regions: MachineJson["regions"] = [
    {
      id: "sys",
      name: "system",
      kind: "container",
      size: "0x10000",
      subregions: [{ id: "ram", name: "ram", kind: "ram", size: "0x1000", addr: "0x0", priority: 0 }],
    },
  ];
  for (let i = 0; i < roots; i++) {
    regions.push({
      id: `bm${i}`,
      name: i % 3 === 2 ? "other container" : "bus master container",
      kind: "container",
      size: "0x10000",
      subregions: [
        { id: `bma${i}`, name: "bus master", kind: "alias", size: "0x10000", alias: "sys", enabled: i % 2 === 0 },
      ],
    });
  }
  return {
    format: "memtopo-machine/1",
    addressSpaces: [
      { name: "memory", root: "sys" },
      ...spaces.map((s) => ({ name: `dev${s.name}`, root: `bm${s.root % roots}` })),
    ],
    regions,
  };
}

const spacesArb = fc.array(fc.record({ name: fc.nat({ max: 2 }), root: fc.nat({ max: 9 }) }), { maxLength: 24 });

describe("address spaces in creation order from the flat view", () => {
  test.prop([spacesArb, fc.integer({ min: 1, max: 6 })], { numRuns: 150 })(
    "many spaces with repeated names over look-alike roots import to a machine that prints the same texts",
    (spaces, roots) => {
      const m = loadMachine(manySpaces(spaces, roots));
      const tree = printMtree(m.addressSpaces, { disabled: true, order: m.mtreeOrder });
      const flat = printMtreeFlat(m.addressSpaces);
      const back = loadMachine(importQemu({ tree, flat }).machine);
      expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
      expect(printMtree(back.addressSpaces, { disabled: true, order: back.mtreeOrder })).toBe(tree);
    },
  );
});
