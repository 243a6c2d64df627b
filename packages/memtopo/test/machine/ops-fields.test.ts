import { describe, expect, it } from "vitest";
import { loadMachine, MachineFormatError, type MachineJson } from "../../src/index.js";

// Rule: a machine file describes regions, never device behaviour (docs/machine-format.md): it carries no ops, so no
// access sizes. A file that tries (`valid`/`impl`/`ops` on a region) is refused with the field's path, as every
// unknown field is, rather than its sizes reaching a region unchecked.

function withField(field: string, value: unknown): MachineJson {
  return {
    format: "memtopo-machine/1",
    addressSpaces: [{ name: "I/O", root: "io" }],
    regions: [
      {
        id: "io",
        name: "io",
        kind: "container",
        size: "0x10000",
        subregions: [{ id: "dev", name: "dev", kind: "io", addr: "0x60", size: "0x4", [field]: value }],
      },
    ],
  } as MachineJson;
}

describe("machine files carry no ops access sizes", () => {
  for (const field of ["impl", "valid", "ops"]) {
    it(`a region's "${field}" is refused with E_MACHINE_FIELD at its path`, () => {
      const bad = { minAccessSize: -1, maxAccessSize: -1 };
      let error: unknown;
      try {
        loadMachine(withField(field, field === "ops" ? { impl: bad } : bad));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MachineFormatError);
      expect((error as MachineFormatError).code).toBe("E_MACHINE_FIELD");
      expect((error as MachineFormatError).path).toBe(`regions[0].subregions[0].${field}`);
    });
  }
});
