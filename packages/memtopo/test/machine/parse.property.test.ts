import { MemtopoError } from "@memtopo/region-tree";
import { machineArb } from "@memtopo/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MachineSpec, parseMachine, type RegionSpec } from "../../src/index.js";
import { caseNames, readCase } from "../conformance/compare.js";
import { parseMachineOracle } from "./parse-machine-oracle.js";

// The lean validator (JSON paths made only for messages, the cycle search on tables by ordinal) must say exactly
// what the straightforward one says: the same spec for every file that loads, the same code, path and message for
// the first bad value of every file that does not.

type Outcome = { spec: unknown } | { code: string; path: string | undefined; message: string };

/** A spec as plain data: every field of every region (its path included), subregions as ids. */
function plain(spec: MachineSpec): unknown {
  const region = (r: RegionSpec) => ({
    path: r.path,
    id: r.id,
    name: r.name,
    kind: r.kind,
    size: r.size,
    addr: r.addr,
    priority: r.priority,
    enabled: r.enabled,
    readonly: r.readonly,
    nonvolatile: r.nonvolatile,
    romdMode: r.romdMode,
    alias: r.alias,
    aliasOffset: r.aliasOffset,
    log: [...r.log],
    owner: r.owner,
    subregions: r.subregions.map((s) => s.id),
  });
  return {
    name: spec.name,
    accel: spec.accel,
    addressSpaces: spec.addressSpaces,
    mtreeOrder: spec.mtreeOrder,
    regions: spec.regions.map((r) => r.id),
    byId: [...spec.byId.values()].map(region),
  };
}

function outcome(parse: (input: unknown) => MachineSpec, input: unknown): Outcome {
  try {
    return { spec: plain(parse(input)) };
  } catch (error) {
    if (!(error instanceof MemtopoError)) throw error;
    return { code: error.code, path: error.path, message: error.message };
  }
}

function sameAsOracle(input: unknown): Outcome {
  const expected = outcome(parseMachineOracle, input);
  expect(outcome(parseMachine, input)).toEqual(expected);
  return expected;
}

/** Replaces the value at a random path of a JSON document by `value` (or deletes it). */
function mutate(doc: unknown, pick: number, value: unknown, remove: boolean): unknown {
  const paths: (string | number)[][] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: doc, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    paths.push(path);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
  return copy;
}

const hostile = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    1.5,
    2 ** 31,
    "",
    "0x",
    "0x1g",
    "0x10000000000000000",
    "0x10000000000000001",
    "r0",
    "r1",
    "r2",
    "r3",
    "alias",
    "romd",
    "rom",
    ["vga"],
    ["vga", "vga"],
    ["code", "dma"],
    [],
    {},
    { id: "r1", name: "x", kind: "ram", size: "0x10" },
    { id: "r9", name: null, kind: "alias", size: "0x10", alias: "r0" },
  ),
  fc.string({ maxLength: 4 }),
  fc.integer(),
);

describe("parseMachine against the straightforward validator (oracle)", () => {
  it("random machines: the same spec, paths included", () => {
    fc.assert(
      fc.property(machineArb(), (m) => {
        expect("spec" in sameAsOracle(m)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("random machines with one value replaced or removed: the same spec or the same first error", () => {
    let errors = 0;
    fc.assert(
      fc.property(machineArb(), fc.nat(), hostile, fc.boolean(), (m, pick, value, remove) => {
        if ("code" in sameAsOracle(mutate(m, pick, value, remove))) errors++;
      }),
      { numRuns: 1500 },
    );
    expect(errors).toBeGreaterThan(300);
  });

  it("random machines with an alias retargeted (cycles, windows, dangling ids): the same outcome", () => {
    const codes = new Set<string>();
    fc.assert(
      fc.property(machineArb(), fc.nat(), fc.nat({ max: 15 }), (m, pick, target) => {
        const doc = structuredClone(m);
        const all: Record<string, unknown>[] = [];
        const stack: Record<string, unknown>[] = [...(doc.regions as unknown as Record<string, unknown>[])];
        while (stack.length > 0) {
          const r = stack.pop()!;
          all.push(r);
          for (const s of (r.subregions as Record<string, unknown>[] | undefined) ?? []) stack.push(s);
        }
        const r = all[pick % all.length]!;
        r.kind = "alias";
        r.alias = `r${target}`;
        delete r.romdMode;
        const seen = sameAsOracle(doc);
        if ("code" in seen) codes.add(seen.code);
      }),
      { numRuns: 500 },
    );
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(["E_MACHINE_ALIAS_WINDOW", "E_MACHINE_CYCLE", "E_MACHINE_DANGLING_ID"]),
    );
  });

  it("QEMU 7.2 machines of the conformance corpus: the same spec", () => {
    for (const name of caseNames()) {
      expect("spec" in sameAsOracle(JSON.parse(readCase(name, "machine.json")))).toBe(true);
    }
  });
});
