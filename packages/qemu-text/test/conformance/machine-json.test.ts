import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { printMtree } from "../../src/index.js";
import { caseNames, compareMtree, printFlatAsQemu, readCase } from "./compare.js";

describe("conformance test 0: each case's machine.json, built and printed, gives QEMU's three texts", () => {
  for (const name of caseNames()) {
    describe(name, () => {
      const machine = loadMachine(readCase(name, "machine.json"));
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
    });
  }
});
