import { fc, test } from "@fast-check/vitest";
import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's flat view lists the address spaces of each view in creation order, a space under the view its root renders;
// the tree text sorts them by name. Many spaces of few names over look-alike roots (bus-master containers of one or
// two names, each with an alias of `system`, enabled or not: the same ` AS` line, another view) must come back in
// the order that prints the same texts. With twins, some roots hold a `system` of their own: look-alike roots that
// resolve to distinct regions of one name, told apart only by the views they render; the tree's blocks follow a
// drawn order (QEMU's is a hash table's), not the creation order.

interface Space {
  readonly name: number;
  readonly root: number;
}

/**
 * `roots` bus-master-like roots (a container with an alias of `system`, every other one disabled), spaces on them;
 * with `twins`, the roots from the fourth on hold a `system` of their own instead (a larger ram): look-alike roots
 * that resolve to distinct regions of one name (the twins' rams are the same text, each its own view). The alias is
 * not what differs: which of two regions of one name an alias names is the tree text's question, not the flat view's.
 * `order` draws the tree's block order.
 */
function manySpaces(spaces: readonly Space[], roots: number, twins: boolean, order: readonly number[]): MachineJson {
  const system = (id: string, ramSize: string, enabled: boolean): MachineJson["regions"][number] => ({
    id,
    name: "system",
    kind: "container",
    size: "0x10000",
    enabled,
    subregions: [{ id: `${id}-ram`, name: "ram", kind: "ram", size: ramSize, addr: "0x0", priority: 0 }],
  });
  const regions: MachineJson["regions"] = [system("sys", "0x1000", true)];
  for (let i = 0; i < roots; i++) {
    const enabled = i % 2 === 0;
    regions.push({
      id: `bm${i}`,
      name: i % 3 === 2 ? "other container" : "bus master container",
      kind: "container",
      size: "0x10000",
      subregions: [
        twins && i >= 3
          ? { ...system(`sys${i}`, "0x2000", enabled), addr: "0x0" }
          : { id: `bma${i}`, name: "bus master", kind: "alias", size: "0x10000", alias: "sys", enabled },
      ],
    });
  }
  const used = new Set(spaces.map((s) => `bm${s.root % roots}`));
  const mtreeOrder = [...new Set(order.map((k) => `bm${k % roots}`))].filter((id) => used.has(id));
  return {
    format: "memtopo-machine/1",
    addressSpaces: [
      { name: "memory", root: "sys" },
      ...spaces.map((s) => ({ name: `dev${s.name}`, root: `bm${s.root % roots}` })),
    ],
    regions,
    ...(mtreeOrder.length > 0 ? { mtreeOrder } : {}),
  };
}

const spacesArb = fc.array(fc.record({ name: fc.nat({ max: 2 }), root: fc.nat({ max: 9 }) }), { maxLength: 24 });
const orderArb = fc.array(fc.nat({ max: 9 }), { maxLength: 10 });

describe("address spaces in creation order from the flat view", () => {
  test.prop([spacesArb, fc.integer({ min: 1, max: 6 }), fc.boolean(), orderArb], { numRuns: 150 })(
    "many spaces with repeated names over look-alike roots import to a machine that prints the same texts",
    (spaces, roots, twins, order) => {
      const m = loadMachine(manySpaces(spaces, roots, twins, order));
      const tree = printMtree(m.addressSpaces, { disabled: true, order: m.mtreeOrder });
      const flat = printMtreeFlat(m.addressSpaces);
      const back = loadMachine(importQemu({ tree, flat }).machine);
      expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
      expect(printMtree(back.addressSpaces, { disabled: true, order: back.mtreeOrder })).toBe(tree);
    },
  );
});
