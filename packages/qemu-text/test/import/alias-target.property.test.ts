import { fc, test } from "@fast-check/vitest";
import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's `info mtree` names an alias's target by name alone and prints each target once, in a `memory-region:`
// section, in the order the aliases queue them. Random machines whose aliases target look-alike regions (parentless
// containers all named `sys`, each with a `ram` of its own size) print sections the tree text cannot match to their
// aliases; the flat view shows which ram each alias renders. Imported, they must print the same texts.

interface Alias {
  readonly target: number;
  readonly root: number;
  readonly window: number;
  readonly enabled: boolean;
}

const RAM_SIZES = [0x1000n, 0x2000n, 0x3000n];

/**
 * `targets` containers named `sys` (of 0x10000 bytes, a ram of RAM_SIZES[k] bytes in each) and aliases of them
 * (0x10000 apart, windows of 0x1000 to 0x4000 bytes) under one or two roots, each the root of a space.
 */
function lookAlikeTargets(targets: readonly number[], aliases: readonly Alias[], roots: number): MachineJson {
  const hex = (n: bigint): string => `0x${n.toString(16)}`;
  const regions: MachineJson["regions"] = [];
  for (let r = 0; r < roots; r++) {
    regions.push({
      id: `root${r}`,
      name: "root",
      kind: "container",
      size: "0x1000000",
      subregions: aliases
        .map((a, i) => ({ a, i }))
        .filter(({ a }) => a.root % roots === r)
        .map(({ a, i }) => ({
          id: `a${i}`,
          name: `a${i}`,
          kind: "alias" as const,
          alias: `sys${a.target % targets.length}`,
          aliasOffset: "0x0",
          size: hex(BigInt(a.window) * 0x1000n),
          addr: hex(BigInt(i) * 0x10000n),
          ...(a.enabled ? {} : { enabled: false }),
        })),
    });
  }
  targets.forEach((ram, k) => {
    regions.push({
      id: `sys${k}`,
      name: "sys",
      kind: "container",
      size: "0x10000",
      subregions: [{ id: `ram${k}`, name: "ram", kind: "ram", size: hex(RAM_SIZES[ram]!), addr: "0x0" }],
    });
  });
  return {
    format: "memtopo-machine/1",
    addressSpaces: Array.from({ length: roots }, (_, r) => ({ name: `as${r}`, root: `root${r}` })),
    regions,
  };
}

const targetsArb = fc.array(fc.nat({ max: RAM_SIZES.length - 1 }), { minLength: 2, maxLength: 3 });
const aliasArb = fc.record({
  target: fc.nat({ max: 2 }),
  root: fc.nat({ max: 1 }),
  window: fc.integer({ min: 1, max: 4 }),
  enabled: fc.nat({ max: 4 }).map((n) => n > 0),
});

describe("aliases of look-alike targets (the flat view decides which section an alias names)", () => {
  test.prop([targetsArb, fc.array(aliasArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 2 })], {
    numRuns: 300,
  })(
    "random aliases of same-named targets import to a machine that prints the same texts",
    (targets, aliases, roots) => {
      const m = loadMachine(lookAlikeTargets(targets, aliases, roots));
      const tree = printMtree(m.addressSpaces, { disabled: true });
      const flat = printMtreeFlat(m.addressSpaces);
      const back = loadMachine(importQemu({ tree, flat }).machine);
      expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
      expect(printMtree(back.addressSpaces, { disabled: true })).toBe(tree);
    },
  );
});
