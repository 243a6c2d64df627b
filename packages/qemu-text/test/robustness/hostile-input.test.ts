import { MemtopoError } from "@memtopo/region-tree";
import { typedErrorExpectations } from "@memtopo/test-support";
import fc from "fast-check";
import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu } from "../../src/index.js";
import { caseNames, readCase } from "../conformance/compare.js";

// Every text either imports to a machine file that loads or throws a typed MemtopoError; no TypeError,
// RangeError or stack overflow escapes. Counts and seeds of the last run are in docs/robustness.md.

const small = caseNames().filter((n) => readCase(n, "machine.json").length < 60_000);

const { expectLoadsOrTypedError } = typedErrorExpectations(MemtopoError);

describe("importQemu on truncated and corrupted QEMU text", () => {
  const texts = small.map((n) => ({ tree: readCase(n, "mtree-D.txt"), flat: readCase(n, "mtree-f.txt") }));

  it("a duplicated alias line that puts an alias of pci inside pci is E_MACHINE_CYCLE at its line, not a stack overflow", () => {
    // Found by the property below (seed 86418971): line 75 of this case copied to line 200.
    const tree = readCase("x86-pc-128m-explicit-held-kvm", "mtree-D.txt").split("\n");
    const flat = readCase("x86-pc-128m-explicit-held-kvm", "mtree-f.txt");
    expect(tree[74]).toContain("alias pam-pci @pci");
    tree.splice(199, 0, tree[74]!);
    let error: unknown;
    try {
      importQemu({ tree: tree.join("\n"), flat });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemtopoError);
    expect(error).toMatchObject({ code: "E_MACHINE_CYCLE", path: "line 200" });
    expect((error as Error).message).toContain("pci -> pam-pci -> pci");
  });

  it("cut, spliced, duplicated or garbled lines import or throw a typed error", () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.constantFrom("cut", "drop", "dup", "garble", "swap"),
        fc.nat(),
        fc.nat(),
        fc.string({ maxLength: 6 }),
        fc.boolean(),
        (which, how, a, b, junk, inFlat) => {
          const { tree, flat } = texts[which % texts.length]!;
          const corrupt = (text: string): string => {
            const lines = text.split("\n");
            const i = a % lines.length;
            const j = b % lines.length;
            switch (how) {
              case "cut":
                return text.slice(0, a % text.length);
              case "drop":
                lines.splice(i, 1 + (j % 5));
                return lines.join("\n");
              case "dup":
                lines.splice(i, 0, lines[j]!);
                return lines.join("\n");
              case "swap":
                [lines[i], lines[j]] = [lines[j]!, lines[i]!];
                return lines.join("\n");
              default: {
                const line = lines[i]!;
                const at = b % (line.length + 1);
                lines[i] = line.slice(0, at) + junk + line.slice(at + junk.length);
                return lines.join("\n");
              }
            }
          };
          expectLoadsOrTypedError(() => {
            const { machine } = importQemu(inFlat ? { tree, flat: corrupt(flat) } : { tree: corrupt(tree), flat });
            loadMachine(machine);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
