import { loadMachine, MachineFormatError, saveMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree } from "../../src/index.js";
import { caseNames, printFlatAsQemu, readCase } from "./compare.js";

// QEMU prints `info mtree`'s blocks in the order of a hash table (mtree_info_as walks a GHashTable keyed by root),
// which nothing else in the machine determines. An imported machine keeps that order (`mtreeOrder`), so the round
// trip of a capture is byte-identical, not only equal block by block.
describe("import-qemu keeps QEMU's block order: a capture's round trip is byte for byte", () => {
  for (const name of caseNames()) {
    it(name, () => {
      const { machine: json } = importQemu({
        tree: readCase(name, "mtree-D.txt"),
        flat: readCase(name, "mtree-f.txt"),
      });
      const machine = loadMachine(json);
      const order = machine.mtreeOrder;
      expect(printMtree(machine.addressSpaces, { order })).toBe(readCase(name, "mtree.txt"));
      expect(printMtree(machine.addressSpaces, { disabled: true, order })).toBe(readCase(name, "mtree-D.txt"));
      expect(printFlatAsQemu(machine)).toBe(readCase(name, "mtree-f.txt"));

      // Saved again, the file keeps the order.
      const saved = saveMachine({
        name: machine.name,
        accel: machine.accel,
        addressSpaces: machine.addressSpaces,
        regions: machine.regions,
        mtreeOrder: order,
      });
      const again = loadMachine(saved);
      expect(printMtree(again.addressSpaces, { order: again.mtreeOrder })).toBe(readCase(name, "mtree.txt"));
    });
  }
});

describe("mtreeOrder in a machine file", () => {
  const base = {
    format: "memtopo-machine/1",
    addressSpaces: [
      { name: "memory", root: "a" },
      { name: "I/O", root: "b" },
    ],
    regions: [
      { id: "a", name: "system", kind: "container", size: "0x1000" },
      { id: "b", name: "io", kind: "container", size: "0x1000" },
    ],
  };
  const codeOf = (value: unknown) => {
    try {
      loadMachine({ ...base, mtreeOrder: value });
    } catch (error) {
      return error instanceof MachineFormatError ? `${error.code} ${error.path}` : String(error);
    }
    return "loaded";
  };

  it("puts the listed roots' blocks first, the rest in creation order", () => {
    const m = loadMachine({ ...base, mtreeOrder: ["b"] });
    expect(printMtree(m.addressSpaces, { order: m.mtreeOrder }).split("\n")[0]).toBe("address-space: I/O");
    expect(printMtree(m.addressSpaces).split("\n")[0]).toBe("address-space: memory");
  });

  it("refuses what is not a list of distinct address-space roots, naming the entry", () => {
    expect(codeOf("b")).toBe("E_MACHINE_TYPE mtreeOrder");
    expect(codeOf(["a", 3])).toBe("E_MACHINE_TYPE mtreeOrder[1]");
    expect(codeOf(["zz"])).toBe("E_MACHINE_DANGLING_ID mtreeOrder[0]");
    expect(codeOf(["a", "a"])).toBe("E_MACHINE_DUPLICATE_ID mtreeOrder[1]");
    expect(codeOf(["b", "a"])).toBe("loaded");
  });
});
