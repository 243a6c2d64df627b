import { readFileSync } from "node:fs";
import path from "node:path";
import { casesDir as cases } from "@memtopo/fixtures";
import { MemtopoError } from "@memtopo/region-tree";
import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree } from "../../src/index.js";

// Wrong results accepted silently: import-qemu refuses, with the line, what it cannot write as a loadable
// machine file, instead of exiting 0 with a file that does not load.

const text = (prio: string): string =>
  [
    "address-space: memory",
    "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
    `    0000000000000000-0000000000000fff (prio ${prio}, ram): ram`,
    "",
  ].join("\n");

function codeOf(run: () => unknown): { code: string; path: string | undefined } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MemtopoError);
    return { code: (error as MemtopoError).code, path: (error as MemtopoError).path };
  }
  throw new Error("nothing was thrown");
}

const read = (slug: string, file: string) => readFileSync(path.join(cases, slug, file), "utf8");

describe("import-qemu refusals", () => {
  it("a priority beyond 32 bits (written as 1e+23 or null before) is E_MACHINE_RANGE with its line", () => {
    for (const prio of ["99999999999999999999999", "9".repeat(400), "2147483648", "-2147483649"]) {
      expect(codeOf(() => importQemu({ tree: text(prio) }))).toEqual({ code: "E_MACHINE_RANGE", path: "line 3" });
    }
    const { machine } = importQemu({ tree: text("-2147483648") });
    expect(() => loadMachine(machine)).not.toThrow();
  });

  it("an empty input (or one without an address space) is refused, not an empty machine", () => {
    for (const tree of [
      "",
      "\n\n",
      "memory-region: pc.ram\n  0000000000000000-0000000000000fff (prio 0, ram): pc.ram\n",
    ]) {
      expect(codeOf(() => importQemu({ tree })).code).toBe("E_MTREE_SYNTAX");
    }
  });

  it("an end below its start without QEMU's [DETECTED OVERFLOW!] mark is E_MACHINE_RANGE with its line", () => {
    const line = (l: string) =>
      ["address-space: memory", "  0000000000000000-ffffffffffffffff (prio 0, i/o): system", l].join("\n");
    expect(
      codeOf(() => importQemu({ tree: line("    0000000000002000-0000000000000fff (prio 0, ram): ram") })),
    ).toEqual({
      code: "E_MACHINE_RANGE",
      path: "line 3",
    });
  });

  it("a marked line that ends past 2^64 (QEMU renders it clipped) is E_MACHINE_PAST_END with its line", () => {
    const tree = [
      "address-space: memory",
      "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
      "    0000000000000000-0000000000000fff (prio 0, ram): low",
      "[DETECTED OVERFLOW!]     fffffffffffff000-0000000000000fff (prio 0, ram): big",
    ].join("\n");
    expect(codeOf(() => importQemu({ tree }))).toEqual({ code: "E_MACHINE_PAST_END", path: "line 4" });
  });

  it("a marked line whose end wrapped inside a loadable machine (a subregion sticking out near 2^64) round-trips", () => {
    const machine = loadMachine({
      format: "memtopo-machine/1",
      addressSpaces: [{ name: "memory", root: "s" }],
      regions: [
        {
          id: "s",
          name: "system",
          kind: "container",
          size: "0x10000000000000000",
          subregions: [
            {
              id: "top",
              name: "top",
              kind: "container",
              addr: "0xffffffffffff0000",
              size: "0x10000",
              subregions: [{ id: "out", name: "out", kind: "io", addr: "0x8000", size: "0x10000" }],
            },
          ],
        },
      ],
    });
    const tree = printMtree(machine.addressSpaces, { disabled: true });
    expect(tree).toContain("[DETECTED OVERFLOW!]       ffffffffffff8000-0000000000007fff (prio 0, i/o): out");
    expect(printMtree(loadMachine(importQemu({ tree }).machine).addressSpaces, { disabled: true })).toBe(tree);
  });

  it("a flat view the tree cannot print (another machine, or the same one at another moment) is E_MTREE_MISMATCH", () => {
    const tree = read("x86-pc-held-kvm", "mtree.txt");
    for (const other of ["x86-pc-ran-kvm", "x86-q35-held-kvm", "arm64-virt-a57-held"]) {
      const refused = codeOf(() => importQemu({ tree, flat: read(other, "mtree-f.txt") }));
      expect(refused.code).toBe("E_MTREE_MISMATCH");
      expect(refused.path).toMatch(/^flat line \d+$/);
    }
    expect(() => importQemu({ tree, flat: read("x86-pc-held-kvm", "mtree-f.txt") })).not.toThrow();
  });

  it("a tree with an address space that no FlatView of the flat text names is E_MTREE_MISMATCH at its root line", () => {
    const tree = read("x86-pc-held-kvm", "mtree-D.txt");
    const extra = `${tree.trimEnd()}\n\naddress-space: extra\n  0000000000000000-0000000000000fff (prio 0, i/o): extra-root\n`;
    const rootLine = extra.trimEnd().split("\n").length;
    expect(codeOf(() => importQemu({ tree: extra, flat: read("x86-pc-held-kvm", "mtree-f.txt") }))).toEqual({
      code: "E_MTREE_MISMATCH",
      path: `line ${rootLine}`,
    });
  });
});
