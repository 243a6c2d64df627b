import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree } from "../../src/index.js";
import { spacesDump } from "../corpus/shapes.js";

// A large dump's import must be loadable: the file import-qemu writes loads back and prints the text it came
// from. (Its cost is measured in bench/scale.bench.mjs, `import-qemu` and `import-qemu-load`, not here.)

describe("a plain info mtree dump of 40 address spaces of 1 000 regions (2.7 MB)", { timeout: 300_000 }, () => {
  it("imports to a machine file that loads and prints the dump back byte for byte", () => {
    const text = spacesDump(40, 1000);
    const { machine } = importQemu({ tree: text });
    const loaded = loadMachine(JSON.stringify(machine));
    expect(loaded.addressSpaces).toHaveLength(40);
    expect(loaded.addressSpaces[39]!.currentMap.ranges.length).toBeGreaterThan(0);
    expect(printMtree(loaded.addressSpaces, { order: loaded.mtreeOrder })).toBe(text);
  });
});
