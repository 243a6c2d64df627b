import { MemtopoError } from "@memtopo/region-tree";
import { typedErrorExpectations } from "@memtopo/test-support";
import { loadMachine, MemorySystem, saveMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree } from "../../src/index.js";
import { deeplyIndentedMtree, deepTree, wideMachineFile } from "../corpus/shapes.js";

// Raw errors: the map may be as wide or as deep as the user makes it. No argument spread or recursion in
// the printers, the importer or the machine file's checks may turn that into a RangeError or a stack overflow.

const WIDE = 150_000;

const { expectCode } = typedErrorExpectations(MemtopoError);

// 150 000 children take 5 to 12 s on an idle 2-core machine and 40 s under load: the timeout only stops a hang

// (speed is measured in bench/wide.bench.mjs, not here).
describe("a container with 150 000 children", { timeout: 180_000 }, () => {
  it("in a machine file: loads, prints and saves (no spread in the loader's checks)", () => {
    const machine = loadMachine(wideMachineFile(WIDE));
    expect(machine.addressSpaces[0]!.currentMap.ranges).toHaveLength(WIDE);
    const text = printMtree(machine.addressSpaces);
    expect(text.split("\n")).toHaveLength(WIDE + 4);
    const saved = saveMachine({ accel: "tcg", addressSpaces: machine.addressSpaces });
    expect(saved.regions[0]!.subregions).toHaveLength(WIDE);
  });
});

describe("trees 10 000 deep, built through the API", () => {
  it("print without recursion; saving refuses with the loader's typed depth error", () => {
    const system = new MemorySystem();
    const { top } = deepTree(system, 10_000);
    const as = system.createAddressSpace("memory", top);
    expect(as.currentMap.ranges).toHaveLength(1);
    const text = printMtree([as]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(10_000 + 4);
    expect(lines[10_001]).toBe(`${"  ".repeat(10_001)}0000000000000000-0000000000000fff (prio 0, ram): leaf`);
    const error = expectCode(() => saveMachine({ accel: "tcg", addressSpaces: [as] }), "E_MACHINE_DEPTH");
    expect(error.message).toContain("256");
  });
});

describe("import-qemu of a line indented 20 000 levels", () => {
  it("is the loader's typed depth error, with the line", () => {
    const error = expectCode(() => importQemu({ tree: deeplyIndentedMtree(20_000) }), "E_MACHINE_DEPTH");
    expect(error.path).toBe("line 3");
  });
});
