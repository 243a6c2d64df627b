import { MemtopoError } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { importQemu, loadMachine } from "../../src/index.js";

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
});
