import { machineArb } from "@memtopo/test-support";
import fc from "fast-check";
import { loadMachine, type MachineJson, saveMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";
import { compareMtree } from "../conformance/compare.js";

type Loaded = ReturnType<typeof loadMachine>;

function texts(m: Loaded): { tree: string; treeD: string; flat: string } {
  return {
    tree: printMtree(m.addressSpaces),
    treeD: printMtree(m.addressSpaces, { disabled: true }),
    flat: printMtreeFlat(m.addressSpaces),
  };
}

describe("machine round trips (property)", () => {
  it("random machine -> save -> load prints exactly the same three texts", () => {
    fc.assert(
      fc.property(machineArb(), (json) => {
        const first = loadMachine(json);
        const saved = saveMachine({ name: first.name, accel: first.accel, addressSpaces: first.addressSpaces });
        const again = loadMachine(JSON.parse(JSON.stringify(saved)));
        expect(texts(again)).toEqual(texts(first));
        // Saving is stable: the saved file saves to itself.
        expect(saveMachine({ name: again.name, accel: again.accel, addressSpaces: again.addressSpaces })).toEqual(
          saved,
        );
      }),
      { numRuns: 300 },
    );
  });

  // What QEMU's text leaves open cannot always be recovered: a `start-start` line is a
  // 1-byte or an empty region (FORMAT.md), and same-named regions can be told apart only as
  // far as the text shows them. With distinct names and no such sizes the import is exact
  // (0 failures in 3000 random machines when measured). With repeated names (no 0/1-byte
  // regions) 5 machines in 30 000 are still imported wrongly (README, "importQemu"); the
  // captures themselves, full of repeated names, all import exactly (conformance 1-2).
  const importRoundTrip = (arb: ReturnType<typeof machineArb>, params: fc.Parameters<[MachineJson]>) =>
    fc.assert(
      fc.asyncProperty(arb, async (json) => {
        const original = texts(loadMachine(json));
        const { machine } = importQemu({ tree: original.treeD, flat: original.flat });
        const imported = texts(loadMachine(machine));
        for (const k of ["tree", "treeD", "flat"] as const) {
          const r = await compareMtree(original[k], imported[k]);
          expect(r.equal, `${k}: ${r.report}`).toBe(true);
        }
      }),
      params,
    );

  it("an alias of a container that overlaps it: sibling order is read off the alias's path alone", async () => {
    // Found by the property below (seed -992715381). Through the alias, ram8 beats ram7 at
    // 0x20; the container's own ram8 at 0x10 lies under the alias and says nothing about it.
    const json: MachineJson = {
      format: "memtopo-machine/1",
      name: "alias-over-its-container",
      accel: "tcg",
      addressSpaces: [{ name: "memory", root: "r0" }],
      regions: [
        {
          id: "r0",
          name: "system",
          kind: "container",
          size: "0x10000000000000000",
          subregions: [
            {
              id: "r3",
              name: "ram3",
              kind: "container",
              size: "0x3000",
              addr: "0x0",
              nonvolatile: true,
              subregions: [
                {
                  id: "r7",
                  name: "ram7",
                  kind: "ram-device",
                  // Found at 2^64; a RAM device now stops a page short of it (a RAM block's length is 64-bit).
                  size: "0xfffffffffffff000",
                  addr: "0x0",
                  priority: -1,
                  readonly: true,
                },
                { id: "r8", name: "ram8", kind: "rom", size: "0x10", addr: "0x10", priority: -1 },
              ],
            },
            { id: "r6", name: "ram6", kind: "alias", size: "0x3000", alias: "r3", aliasOffset: "0x0", addr: "0x10" },
          ],
        },
      ],
    };
    const original = texts(loadMachine(json));
    expect(original.flat).toContain("0000000000000020-000000000000002f (prio -1, nv-rom): ram8");
    const { machine, warnings } = importQemu({ tree: original.treeD, flat: original.flat });
    expect(warnings.join("\n")).not.toContain("in a cycle");
    const imported = texts(loadMachine(machine));
    for (const k of ["tree", "treeD", "flat"] as const) {
      const r = await compareMtree(original[k], imported[k]);
      expect(r.equal, `${k}: ${r.report}`).toBe(true);
    }
  });

  it("random machine with distinct names -> print -D and -f -> importQemu -> load prints the same texts", async () => {
    await importRoundTrip(machineArb({ pointSizes: false, uniqueNames: true }), { numRuns: 500 });
  });
});
