import { MemtopoError } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { loadMachine, MachineFormatError, type MachineJson, MemorySystem } from "../../src/index.js";

/** A small valid machine: system with RAM and a read-only alias; pc.ram parentless. */
function machine(): MachineJson {
  return {
    format: "memtopo-machine/1",
    name: "tiny",
    accel: "tcg",
    addressSpaces: [{ name: "memory", root: "sys" }],
    regions: [
      {
        id: "sys",
        name: "system",
        kind: "container",
        size: "0x10000000000000000",
        subregions: [
          {
            id: "low",
            name: "ram-below-4g",
            kind: "alias",
            addr: "0x0",
            size: "0x8000",
            alias: "ram",
            aliasOffset: "0x0",
          },
          { id: "bios", name: "bios", kind: "rom", addr: "0xf0000", priority: 1, size: "0x10000" },
        ],
      },
      { id: "ram", name: "pc.ram", kind: "ram", size: "0x8000", log: ["vga"] },
    ],
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the edits deliberately break the document's types
type Edit = (m: any) => unknown;

/** Applies `edit` to a fresh valid machine and expects loading to fail with `code` at `path`. */
function rejects(edit: Edit, code: string, path: string | undefined): MachineFormatError {
  const m = machine();
  edit(m);
  const sys = new MemorySystem();
  let error: unknown;
  try {
    loadMachine(m, sys);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MachineFormatError);
  expect(error).toBeInstanceOf(MemtopoError);
  const e = error as MachineFormatError;
  expect(e.code).toBe(code);
  expect(e.path).toBe(path);
  if (path !== undefined) expect(e.message.startsWith(`${path}: `)).toBe(true);
  // Validation runs before anything is built: the system is untouched.
  expect(sys.addressSpaces).toHaveLength(0);
  expect(sys.depth).toBe(0);
  return e;
}

describe("memtopo-machine/1 validation: typed errors that name the JSON path", () => {
  it("a valid file loads, with defaults applied (rom is read-only, vga logs)", () => {
    const m = loadMachine(machine());
    expect(m.name).toBe("tiny");
    expect(m.accel).toBe("tcg");
    expect(m.host.accel).toBe("tcg");
    expect(m.addressSpaces.map((as) => as.name)).toEqual(["memory"]);
    expect(m.regions.get("bios")!.readonly).toBe(true);
    expect(m.regions.get("ram")!.dirtyLogMask & 1).toBe(1);
    expect(m.regions.get("low")!.alias).toBe(m.regions.get("ram"));
    expect(m.warnings).toEqual([]);
  });

  it("not JSON", () => {
    expect(() => loadMachine("{ nope")).toThrow(expect.objectContaining({ code: "E_MACHINE_JSON" }));
  });

  it("wrong format word", () => rejects((m) => (m.format = "memtopo-machine/2"), "E_MACHINE_FORMAT", "format"));
  it("unknown top-level field", () => rejects((m) => (m.extra = 1), "E_MACHINE_FIELD", "extra"));
  it("unknown region field", () =>
    rejects((m) => (m.regions[0].subregions[1].colour = "red"), "E_MACHINE_FIELD", "regions[0].subregions[1].colour"));
  it("missing required field", () => rejects((m) => delete m.regions[1].kind, "E_MACHINE_FIELD", "regions[1].kind"));
  it("wrong type of a size", () =>
    rejects((m) => (m.regions[0].subregions[1].size = 4096), "E_MACHINE_TYPE", "regions[0].subregions[1].size"));
  it("unknown kind", () => rejects((m) => (m.regions[1].kind = "flash"), "E_MACHINE_TYPE", "regions[1].kind"));
  it("wrong type of enabled", () =>
    rejects((m) => (m.regions[0].subregions[0].enabled = "no"), "E_MACHINE_TYPE", "regions[0].subregions[0].enabled"));
  it("unknown accel", () => rejects((m) => (m.accel = "hvf"), "E_MACHINE_TYPE", "accel"));
  it("unknown log client", () => rejects((m) => (m.regions[1].log = ["dma"]), "E_MACHINE_TYPE", "regions[1].log[0]"));
  it("bad hex", () => rejects((m) => (m.regions[1].size = "0x8g00"), "E_MACHINE_HEX", "regions[1].size"));
  it("hex without 0x", () =>
    rejects((m) => (m.regions[0].subregions[1].addr = "f0000"), "E_MACHINE_HEX", "regions[0].subregions[1].addr"));
  it("a size above 2^64", () =>
    rejects((m) => (m.regions[0].size = "0x10000000000000001"), "E_MACHINE_RANGE", "regions[0].size"));
  it("RAM, ROM and RAM devices of 2^64 bytes (a RAM block's length is 64-bit); containers and I/O may be 2^64", () => {
    for (const size of ["0x10000000000000000", "0xffffffffffffffff"]) {
      rejects((m) => (m.regions[1].size = size), "E_MACHINE_RANGE", "regions[1].size");
      rejects((m) => (m.regions[0].subregions[1].size = size), "E_MACHINE_RANGE", "regions[0].subregions[1].size");
      rejects(
        (m) => (m.regions[0].subregions[1] = { id: "bios", name: "dev", kind: "ram-device", addr: "0x0", size }),
        "E_MACHINE_RANGE",
        "regions[0].subregions[1].size",
      );
    }
    const m = machine();
    m.regions[0]!.subregions![1] = { id: "bios", name: "pci", kind: "io", addr: "0x0", size: "0x10000000000000000" };
    expect(() => loadMachine(m, new MemorySystem())).not.toThrow();
    m.regions[1]!.size = "0xfffffffffffff000";
    expect(() => loadMachine(m, new MemorySystem())).not.toThrow();
  });
  it("an address of 2^64", () =>
    rejects(
      (m) => (m.regions[0].subregions[1].addr = "0x10000000000000000"),
      "E_MACHINE_RANGE",
      "regions[0].subregions[1].addr",
    ));
  it("a priority beyond int32", () =>
    rejects(
      (m) => (m.regions[0].subregions[1].priority = 2 ** 31),
      "E_MACHINE_RANGE",
      "regions[0].subregions[1].priority",
    ));
  it("a non-integer priority", () =>
    rejects((m) => (m.regions[0].subregions[1].priority = 1.5), "E_MACHINE_TYPE", "regions[0].subregions[1].priority"));
  it("a subregion ending past 2^64", () =>
    rejects(
      (m) => (m.regions[0].subregions[1].addr = "0xfffffffffffff000"),
      "E_MACHINE_PAST_END",
      "regions[0].subregions[1].addr",
    ));
  it("duplicate ids", () => rejects((m) => (m.regions[1].id = "bios"), "E_MACHINE_DUPLICATE_ID", "regions[1].id"));
  it("a dangling alias id", () =>
    rejects(
      (m) => (m.regions[0].subregions[0].alias = "nothing"),
      "E_MACHINE_DANGLING_ID",
      "regions[0].subregions[0].alias",
    ));
  it("a dangling address-space root", () =>
    rejects((m) => (m.addressSpaces[0].root = "nothing"), "E_MACHINE_DANGLING_ID", "addressSpaces[0].root"));
  it("an alias window outside its target", () =>
    rejects(
      (m) => (m.regions[0].subregions[0].aliasOffset = "0x1000"),
      "E_MACHINE_ALIAS_WINDOW",
      "regions[0].subregions[0].aliasOffset",
    ));
  it("alias fields on a region that is not an alias", () =>
    rejects((m) => (m.regions[1].alias = "sys"), "E_MACHINE_FIELD", "regions[1].alias"));
  it("romdMode on a region that is not a ROM device", () =>
    rejects((m) => (m.regions[1].romdMode = false), "E_MACHINE_FIELD", "regions[1].romdMode"));

  it("aliases that reach each other in a cycle", () => {
    const e = rejects(
      (m) =>
        m.regions.push(
          { id: "a", name: "a", kind: "alias", size: "0x10", alias: "b" },
          { id: "b", name: "b", kind: "alias", size: "0x10", alias: "a" },
        ),
      "E_MACHINE_CYCLE",
      "regions[2].alias",
    );
    expect(e.message).toContain("a -> b -> a");
  });

  it("an alias to its own container is a cycle", () =>
    rejects(
      (m) => (m.regions[0].subregions[0] = { id: "self", name: "self", kind: "alias", size: "0x1000", alias: "sys" }),
      "E_MACHINE_CYCLE",
      "regions[0].subregions[0].alias",
    ));

  it("global dirty-log clients are accepted and reported, not kept per region", () => {
    const m = machine();
    m.regions[1]!.log = ["vga", "code"];
    const loaded = loadMachine(m);
    expect(loaded.warnings).toEqual([
      expect.stringContaining('regions[1].log[1]: "code" is a global dirty-log client'),
    ]);
  });
});
