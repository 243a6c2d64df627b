import { MemtopoError } from "@memtopo/region-tree";
import { machineArb } from "@memtopo/test-support";
import fc from "fast-check";
import { loadMachine, type MachineJson, type MachineRegionJson, parseMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { loaderTakes } from "../../src/import/loader-takes.js";
import { importQemu, printMtree } from "../../src/index.js";

// The importer asks loaderTakes, not the loader's whole check, whether the file it writes loads; the loader's
// check (parseMachine) is the oracle: both must answer alike for every file of the importer's form.

function loaderAccepts(machine: MachineJson): boolean {
  try {
    parseMachine(machine);
    return true;
  } catch (error) {
    if (!(error instanceof MemtopoError)) throw error;
    return false;
  }
}

/** The file's regions in the order they are written (each before its subregions). */
function regionsOf(machine: MachineJson): MachineRegionJson[] {
  const out: MachineRegionJson[] = [];
  const stack = [...machine.regions].reverse();
  while (stack.length > 0) {
    const r = stack.pop()!;
    out.push(r);
    for (const s of [...(r.subregions ?? [])].reverse()) stack.push(s);
  }
  return out;
}

/** Values at and around the loader's limits (2^64, UINT64_MAX standing for 2^64, 32-bit priorities). */
const hexArb = fc.oneof(
  fc.constantFrom(
    "0x0",
    "0x1",
    "0x1000",
    "0x10000000000000",
    "0x20000000000000",
    "0x8000000000000000",
    "0xfffffffffffff000",
    "0xfffffffffffffffe",
    "0xffffffffffffffff",
    "0x10000000000000000",
    "0x10000000000000001",
  ),
  fc.bigInt({ min: 0n, max: (1n << 65n) - 1n }).map((v) => `0x${v.toString(16)}`),
);
const priorityArb = fc.constantFrom(0, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 1.5, 2 ** 53);

/** A change of values that keeps the importer's form: fields of the loader's types, ids and edges as they were. */
type Change =
  | { readonly field: "size" | "addr" | "aliasOffset"; readonly at: number; readonly value: string }
  | { readonly field: "priority"; readonly at: number; readonly value: number }
  | { readonly field: "alias" | "root" | "order"; readonly at: number; readonly value: string };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ field: fc.constantFrom("size", "addr", "aliasOffset"), at: fc.nat(), value: hexArb }),
  fc.record({ field: fc.constant("priority"), at: fc.nat(), value: priorityArb }),
  fc.record({ field: fc.constantFrom("alias", "root", "order"), at: fc.nat(), value: fc.constantFrom("nowhere", "") }),
) as fc.Arbitrary<Change>;

function changed(machine: MachineJson, changes: readonly Change[]): MachineJson {
  const copy = JSON.parse(JSON.stringify(machine)) as MachineJson;
  const regions = regionsOf(copy);
  const aliases = regions.filter((r) => r.kind === "alias");
  for (const c of changes) {
    if (c.field === "size" || c.field === "addr") regions[c.at % regions.length]![c.field] = c.value;
    else if (c.field === "priority") regions[c.at % regions.length]!.priority = c.value;
    else if (c.field === "aliasOffset" && aliases.length > 0) aliases[c.at % aliases.length]!.aliasOffset = c.value;
    else if (c.field === "alias" && aliases.length > 0) {
      // Dangling, or another region's id: only a region without subregions or alias, so no cycle can close.
      const leaves = regions.filter((r) => r.kind !== "alias" && (r.subregions ?? []).length === 0);
      const to = c.value === "" && leaves.length > 0 ? leaves[c.at % leaves.length]!.id : c.value;
      aliases[c.at % aliases.length]!.alias = to;
    } else if (c.field === "root") copy.addressSpaces[c.at % copy.addressSpaces.length]!.root = c.value || "r1";
    else if (c.field === "order") {
      const roots = copy.addressSpaces.map((s) => s.root);
      copy.mtreeOrder = [...(copy.mtreeOrder ?? roots), c.value === "" ? roots[c.at % roots.length]! : c.value];
    }
  }
  return copy;
}

describe("loaderTakes against the loader's check (property)", () => {
  it("imported machines with values changed at the loader's limits: the same answer as parseMachine", () => {
    let refused = 0;
    let runs = 0;
    fc.assert(
      fc.property(machineArb(), fc.array(changeArb, { minLength: 1, maxLength: 3 }), (json, changes) => {
        const tree = printMtree(loadMachine(json).addressSpaces, { disabled: true });
        const written = importQemu({ tree }).machine;
        // As written, every file loads.
        expect(loaderTakes(written)).toBe(true);
        expect(loaderAccepts(written)).toBe(true);
        const other = changed(written, changes);
        const accepted = loaderAccepts(other);
        expect(loaderTakes(other)).toBe(accepted);
        runs++;
        if (!accepted) refused++;
      }),
      { numRuns: 400 },
    );
    // Both answers come up (the property cannot hold by always saying yes or no).
    expect(refused).toBeGreaterThan(runs / 10);
    expect(refused).toBeLessThan(runs);
  });
});

describe("files the loader refuses are refused with the loader's own error", () => {
  const refusal = (tree: string): { code: string; path: string | undefined; message: string } => {
    try {
      importQemu({ tree });
    } catch (error) {
      expect(error).toBeInstanceOf(MemtopoError);
      const e = error as MemtopoError;
      return { code: e.code, path: e.path, message: e.message };
    }
    throw new Error("nothing was thrown");
  };

  it("a RAM line of 2^64 bytes (a RAM block's length is 64-bit)", () => {
    expect(refusal("address-space: memory\n  0000000000000000-ffffffffffffffff (prio 0, ram): big\n")).toEqual({
      code: "E_MACHINE_RANGE",
      path: "regions[0].size",
      message: "regions[0].size: a ram region cannot be 2^64 bytes (its RAM block's length is 64-bit)",
    });
  });

  it("an alias window outside its target", () => {
    const tree = [
      "address-space: memory",
      "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
      "    0000000000000000-0000000000001fff (prio 0, i/o): alias a @t 0000000000002000-0000000000003fff",
      "",
      "memory-region: t",
      "  0000000000000000-0000000000000fff (prio 0, i/o): t",
      "",
    ].join("\n");
    expect(refusal(tree)).toEqual({
      code: "E_MACHINE_ALIAS_WINDOW",
      path: "regions[0].subregions[0].aliasOffset",
      message: 'regions[0].subregions[0].aliasOffset: the window 0x2000+0x2000 lies outside "r3" (size 0x1000)',
    });
  });

  it("a subregion of 2^64 - 1 bytes at 1, which the loader reads as 2^64 bytes (QEMU's UINT64_MAX)", () => {
    const tree = [
      "address-space: memory",
      "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
      "    0000000000000001-ffffffffffffffff (prio 0, i/o): x",
      "",
    ].join("\n");
    expect(refusal(tree)).toEqual({
      code: "E_MACHINE_PAST_END",
      path: "regions[0].subregions[0].addr",
      message: "regions[0].subregions[0].addr: a subregion of size 0x10000000000000000 at this address ends past 2^64",
    });
  });
});
