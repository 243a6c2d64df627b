import { MemtopoError } from "@memtopo/region-tree";
import { machineArb } from "@memtopo/test-support";
import fc from "fast-check";
import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect, it } from "vitest";
import { refuseCycles } from "../../src/import/cycles.js";
import { refuseDeepChains } from "../../src/import/depth.js";
import { applyFlatHints } from "../../src/import/flat-hints.js";
import { resolveIdentities } from "../../src/import/identity.js";
import { buildModel, type RegionModel } from "../../src/import/model.js";
import { parseFlatText } from "../../src/import/parse-flat.js";
import { parseTreeText } from "../../src/import/parse-tree.js";
import { printMtree, printMtreeFlat } from "../../src/index.js";
import { applyFlatHintsOracle } from "./flat-hints-oracle.js";

// The flat hints with clip indexes and binary searches must learn exactly what the straightforward scans learned
// (the oracle: the code before, which scanned every placement per piece): the same flags on every region, the same
// sibling order facts, the same warnings, the same refusal.

/** Either version (the oracle returns nothing): what both learn of the regions is compared. */
type Hints = (...args: Parameters<typeof applyFlatHints>) => unknown;

/** The model of a tree text, the flat text's hints applied by `hints`: every fact they set, as plain data. */
function learned(hints: Hints, tree: string, flat: string): unknown {
  const parsed = parseTreeText(tree);
  const ids = resolveIdentities(parsed);
  const model: RegionModel = buildModel(parsed, ids);
  refuseCycles(model);
  refuseDeepChains(model);
  const warnings: string[] = [];
  try {
    hints(
      model,
      parsed.blocks.filter((b) => b.spaces !== null),
      parseFlatText(flat),
      warnings,
    );
  } catch (error) {
    if (!(error instanceof MemtopoError)) throw error;
    return { code: error.code, path: error.path, message: error.message };
  }
  const index = new Map(model.regions.map((r, i) => [r, i]));
  return {
    warnings,
    regions: model.regions.map((r) => ({
      size: r.size,
      sizeSettled: r.sizeSettled,
      readonly: r.readonly,
      seenInFlat: r.seenInFlat,
      mustBeContainer: r.mustBeContainer,
      mustBeIo: r.mustBeIo,
      alias: r.alias === null ? null : index.get(r.alias),
      before: r.before === null ? null : [...r.before].map((s) => index.get(s)),
    })),
  };
}

function sameAsOracle(tree: string, flat: string): unknown {
  const expected = learned(applyFlatHintsOracle, tree, flat);
  expect(learned(applyFlatHints, tree, flat)).toEqual(expected);
  return expected;
}

/** `n` equal-priority RAM siblings, some overlapping (each `stride` apart, `size` long), under one root. */
function siblings(n: number, stride: bigint, size: bigint, priorities: readonly number[]): MachineJson {
  const hex = (v: bigint): string => `0x${v.toString(16)}`;
  return {
    format: "memtopo-machine/1",
    addressSpaces: [{ name: "memory", root: "sys" }],
    regions: [
      {
        id: "sys",
        name: "system",
        kind: "container",
        size: "0x10000000000000000",
        subregions: Array.from({ length: n }, (_, i) => ({
          id: `r${i}`,
          name: `r${i % 7}`,
          kind: i % 5 === 4 ? "rom" : "ram",
          size: hex(size),
          addr: hex(BigInt(i) * stride),
          priority: priorities[i % priorities.length]!,
        })),
      },
    ],
  };
}

/** `roots` bus-master-like roots (a container holding an alias of `system`, some disabled) and spaces over them. */
function manySpaces(spaces: readonly { name: number; root: number }[], roots: number): MachineJson {
  const regions: MachineJson["regions"] = [
    {
      id: "sys",
      name: "system",
      kind: "container",
      size: "0x10000",
      subregions: [{ id: "ram", name: "ram", kind: "ram", size: "0x1000", addr: "0x0", priority: 0 }],
    },
  ];
  for (let i = 0; i < roots; i++) {
    regions.push({
      id: `bm${i}`,
      name: i % 3 === 2 ? "other container" : "bus master container",
      kind: "container",
      size: "0x10000",
      subregions: [
        { id: `bma${i}`, name: "bus master", kind: "alias", size: "0x10000", alias: "sys", enabled: i % 2 === 0 },
      ],
    });
  }
  return {
    format: "memtopo-machine/1",
    addressSpaces: [
      { name: "memory", root: "sys" },
      ...spaces.map((s) => ({ name: `dev${s.name}`, root: `bm${s.root % roots}` })),
    ],
    regions,
  };
}

describe("the flat hints against the straightforward scans (oracle)", () => {
  it("many address spaces with repeated names over shared and look-alike roots, the flat text whole or with a space left out: the same facts or refusal", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.nat({ max: 2 }), root: fc.nat() }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (spaces, roots, drop) => {
          const m = loadMachine(manySpaces(spaces, roots));
          const tree = printMtree(m.addressSpaces, { disabled: true, order: m.mtreeOrder });
          let flat = printMtreeFlat(m.addressSpaces);
          if (drop !== undefined) {
            const lines = flat.split("\n");
            const as = lines.flatMap((l, i) => (l.startsWith(" AS ") ? [i] : []));
            lines.splice(as[drop % as.length]!, 1);
            flat = lines.join("\n");
          }
          sameAsOracle(tree, flat);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random machines printed by memtopo: the same facts learned from info mtree -D and -f", () => {
    fc.assert(
      fc.property(machineArb(), (json) => {
        const m = loadMachine(json);
        sameAsOracle(printMtree(m.addressSpaces, { disabled: true }), printMtreeFlat(m.addressSpaces));
      }),
      { numRuns: 400 },
    );
  });

  it("a flat view of another machine: the same refusal, or the same facts", () => {
    fc.assert(
      fc.property(machineArb(), machineArb(), (a, b) => {
        const ma = loadMachine(a);
        const mb = loadMachine(b);
        sameAsOracle(printMtree(ma.addressSpaces, { disabled: true }), printMtreeFlat(mb.addressSpaces));
      }),
      { numRuns: 200 },
    );
  });

  it("many overlapping siblings of mixed priorities and repeated names: the same facts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.constantFrom(0x800n, 0x1000n, 0x1800n),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
        (n, stride, priorities) => {
          const m = loadMachine(siblings(n, stride, 0x1000n, priorities));
          sameAsOracle(printMtree(m.addressSpaces, { disabled: true }), printMtreeFlat(m.addressSpaces));
        },
      ),
      { numRuns: 150 },
    );
  });
});
