import { loadMachine, saveMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";
import { caseNames, compareMtree, printFlatAsQemu, readCase } from "./compare.js";

describe("each case's machine.json saves to a file that loads and prints the same", () => {
  for (const name of caseNames()) {
    it(name, () => {
      const first = loadMachine(readCase(name, "machine.json"));
      const saved = saveMachine({ name: first.name, accel: first.accel, addressSpaces: first.addressSpaces });
      const again = loadMachine(JSON.stringify(saved));
      expect(again.accel).toBe(first.accel);
      expect(printMtree(again.addressSpaces, { disabled: true })).toBe(
        printMtree(first.addressSpaces, { disabled: true }),
      );
      expect(printMtreeFlat(again.addressSpaces)).toBe(printMtreeFlat(first.addressSpaces));
    });
  }
});

describe("importing with less text: QEMU's plain info mtree, or no flat view", () => {
  for (const name of caseNames()) {
    it(`${name}: plain info mtree with the flat view still prints the plain tree and the flat view`, async () => {
      const { machine } = importQemu({ tree: readCase(name, "mtree.txt"), flat: readCase(name, "mtree-f.txt") });
      const loaded = loadMachine(machine);
      const tree = await compareMtree(readCase(name, "mtree.txt"), printMtree(loaded.addressSpaces));
      expect(tree.equal, tree.report).toBe(true);
      const flat = await compareMtree(readCase(name, "mtree-f.txt"), printFlatAsQemu(loaded));
      expect(flat.equal, flat.report).toBe(true);
    });

    it(`${name}: -D text without a flat view prints both tree views and says what it assumed`, async () => {
      const { machine, warnings } = importQemu({ tree: readCase(name, "mtree-D.txt") });
      const loaded = loadMachine(machine);
      for (const [file, disabled] of [
        ["mtree.txt", false],
        ["mtree-D.txt", true],
      ] as const) {
        const r = await compareMtree(readCase(name, file), printMtree(loaded.addressSpaces, { disabled }));
        expect(r.equal, r.report).toBe(true);
      }
      expect(warnings).toContainEqual(expect.stringContaining("no flat view"));
    });
  }
});
