import { MemtopoError } from "@memtopo/region-tree";
import { typedErrorExpectations } from "@memtopo/test-support";
import { loadMachine, type MachineJson } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's `info mtree` names an alias's target by its name alone (`@sys`) and prints each target once, in a
// `memory-region:` section, in the order aliases first queue them. Of two targets named alike, an alias may name
// the one already queued or the next section of that name: the tree text cannot tell which, the flat view can,
// since the alias renders its own target's content (a `ram` of 0x1000 bytes, or of 0x2000).

const { expectCode } = typedErrorExpectations(MemtopoError);

type Region = MachineJson["regions"][number];

/** A parentless container `sys` holding one `ram` of `ram` bytes: two of them are look-alike alias targets. */
const sys = (id: string, size: string, ram: string): Region => ({
  id,
  name: "sys",
  kind: "container",
  size,
  subregions: [{ id: `${id}-ram`, name: "ram", kind: "ram", size: ram, addr: "0x0" }],
});

/** Aliases of `sys` containers at 0x10000 apart under one root, each [name, target, window size]. */
function machine(aliases: readonly (readonly [string, string, string])[], targets: readonly Region[]): MachineJson {
  return {
    format: "memtopo-machine/1",
    addressSpaces: [{ name: "dev", root: "root" }],
    regions: [
      {
        id: "root",
        name: "root",
        kind: "container",
        size: "0x100000",
        subregions: aliases.map(([name, target, size], i) => ({
          id: name,
          name,
          kind: "alias",
          alias: target,
          aliasOffset: "0x0",
          size,
          addr: `0x${(i * 0x10000).toString(16)}`,
        })),
      },
      ...targets,
    ],
  };
}

function texts(json: MachineJson): { tree: string; flat: string } {
  const m = loadMachine(json);
  return { tree: printMtree(m.addressSpaces, { disabled: true }), flat: printMtreeFlat(m.addressSpaces) };
}

function expectRoundTrip(json: MachineJson): void {
  const { tree, flat } = texts(json);
  const back = loadMachine(importQemu({ tree, flat }).machine);
  expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
  expect(printMtree(back.addressSpaces, { disabled: true })).toBe(tree);
}

describe("an alias names its target by name: of look-alike targets, the flat view decides which", () => {
  it("an alias that names the next section although one of that name is queued (mtree queues each target once)", () => {
    // x queues the first `sys` section; y1 and y2 both name the second. Taking the queued one for y1 still queues
    // every section (through y2), so only y1's rendered ram (0x2000 bytes, not 0x1000) says it is the second.
    const json = machine(
      [
        ["x", "a", "0x4000"],
        ["y1", "b", "0x4000"],
        ["y2", "b", "0x4000"],
      ],
      [sys("a", "0x10000", "0x1000"), sys("b", "0x10000", "0x2000")],
    );
    const { tree, flat } = texts(json);
    expect(tree.match(/^memory-region: sys$/gm)).toHaveLength(2);
    expect(flat).toContain("0000000000010000-0000000000011fff (prio 0, ram): ram");
    expectRoundTrip(json);
  });

  it("an alias that names the second of two queued sections of one name", () => {
    // x queues the smaller `sys`, z's window fits the larger one only (so z queues the second section); y then
    // names either of two queued sections and renders the larger one's ram.
    const json = machine(
      [
        ["x", "a", "0x4000"],
        ["z", "b", "0xc000"],
        ["y", "b", "0x4000"],
      ],
      [sys("a", "0x8000", "0x1000"), sys("b", "0x10000", "0x2000")],
    );
    expect(texts(json).flat).toContain("0000000000020000-0000000000021fff (prio 0, ram): ram");
    expectRoundTrip(json);
  });

  it("look-alike targets that render alike in every window are taken as before (the texts are the same either way)", () => {
    const json = machine(
      [
        ["x", "a", "0x4000"],
        ["y1", "b", "0x4000"],
        ["y2", "b", "0x4000"],
      ],
      [sys("a", "0x10000", "0x1000"), sys("b", "0x10000", "0x1000")],
    );
    expectRoundTrip(json);
  });

  it("a flat view that no choice of targets renders is still refused (E_MTREE_MISMATCH)", () => {
    const json = machine(
      [
        ["x", "a", "0x4000"],
        ["y1", "b", "0x4000"],
        ["y2", "b", "0x4000"],
      ],
      [sys("a", "0x10000", "0x1000"), sys("b", "0x10000", "0x2000")],
    );
    const { tree, flat } = texts(json);
    // A ram of 0x3000 bytes: neither `sys` holds one.
    const forged = flat.replace("0000000000010000-0000000000011fff", "0000000000010000-0000000000012fff");
    expect(forged).not.toBe(flat);
    expectCode(() => importQemu({ tree, flat: forged }), "E_MTREE_MISMATCH");
  });
});
