import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree } from "../../src/index.js";
import { caseNames, compareMtree, printFlatAsQemu, readCase } from "./compare.js";

describe("conformance tests 1-2: QEMU's text imported, built and printed gives the three texts again", () => {
  for (const name of caseNames()) {
    describe(name, () => {
      const { machine: json } = importQemu({
        tree: readCase(name, "mtree-D.txt"),
        flat: readCase(name, "mtree-f.txt"),
      });
      const machine = loadMachine(json);
      it("info mtree", async () => {
        const r = await compareMtree(readCase(name, "mtree.txt"), printMtree(machine.addressSpaces));
        expect(r.equal, r.report).toBe(true);
      });
      it("info mtree -D", async () => {
        const r = await compareMtree(
          readCase(name, "mtree-D.txt"),
          printMtree(machine.addressSpaces, { disabled: true }),
        );
        expect(r.equal, r.report).toBe(true);
      });
      it("info mtree -f", async () => {
        const r = await compareMtree(readCase(name, "mtree-f.txt"), printFlatAsQemu(machine));
        expect(r.equal, r.report).toBe(true);
      });
      it("the accelerator is recovered from the flat view's KVM marks", () => {
        expect(json.accel).toBe(JSON.parse(readCase(name, "machine.json")).accel);
      });
    });
  }
});
