import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MemtopoError } from "@memtopo/region-tree";
import { loadMachine, type MachineRegionJson } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// `info mtree -o` (QEMU 7.2's mtree_print_mr_owner) appends an owner part to every line: owner:{…}, with
// parent:{…} when the QOM parent differs, a lone parent:{…}, or orphan. It is read as the region's owner,
// never as part of its name. The capture is QEMU 7.2's own (test/corpus/qemu-7.2-pc-owners/source.txt).

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../corpus/qemu-7.2-pc-owners");
const tree = readFileSync(path.join(corpus, "mtree-o-D.txt"), "utf8");
const flat = readFileSync(path.join(corpus, "mtree-f-o.txt"), "utf8");
const withoutOwners = (text: string) =>
  text.replace(/ (?:owner:\{[^{}]*\}(?: parent:\{[^{}]*\})?|parent:\{[^{}]*\}|orphan)$/gm, "");

function regionsOf(regions: readonly MachineRegionJson[]): MachineRegionJson[] {
  const out: MachineRegionJson[] = [];
  const stack = [...regions];
  while (stack.length > 0) {
    const r = stack.pop()!;
    out.push(r);
    stack.push(...(r.subregions ?? []));
  }
  return out;
}

describe("info mtree -o: owners are owners, not names", () => {
  it("QEMU's -o -D and -f -o texts import with owners as labels and print back QEMU's plain texts", () => {
    const { machine, warnings } = importQemu({ tree, flat });
    const all = regionsOf(machine.regions);
    expect(all.filter((r) => /owner:|parent:|orphan/.test(r.name ?? ""))).toEqual([]);
    const owners = new Set(all.map((r) => r.owner));
    expect(owners).toContain("nic0");
    expect(owners).toContain("/machine/i440fx");
    expect(owners).toContain("/objects/pc.ram");
    expect(all.find((r) => r.name === "system")?.owner).toBeUndefined();
    expect(warnings.some((w) => w.includes("owner(s) are objects or types"))).toBe(true);
    const loaded = loadMachine(machine);
    expect(printMtree(loaded.addressSpaces, { disabled: true, order: loaded.mtreeOrder })).toBe(withoutOwners(tree));
    expect(printMtreeFlat(loaded.addressSpaces)).toBe(withoutOwners(flat));
    // Printed with -o again: QEMU's lines, except an object owner comes back as a device (a label has no kind).
    const again = printMtree(loaded.addressSpaces, { disabled: true, owner: true, order: loaded.mtreeOrder }).split(
      "\n",
    );
    tree.split("\n").forEach((line, i) => {
      expect(again[i]).toBe(line.replace(" owner:{obj path=", " owner:{dev path="));
    });
  });

  it("a -o text with a line whose owner part is missing or malformed is E_MTREE_SYNTAX with that line", () => {
    const lines = tree.split("\n");
    const k = lines.findIndex((l) => l.includes("owner:{dev id=nic0}"));
    for (const bad of [
      lines[k]!.replace(" owner:{dev id=nic0}", ""),
      lines[k]!.replace(" owner:{dev id=nic0}", " owner:{dev id=nic0"),
      lines[k]!.replace(" owner:{dev id=nic0}", " owner:{obj id=nic0}"),
      lines[k]!.replace(" owner:{dev id=nic0}", " owner:{nic0}"),
    ]) {
      const text = [...lines.slice(0, k), bad, ...lines.slice(k + 1)].join("\n");
      let error: unknown;
      try {
        importQemu({ tree: text });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MemtopoError);
      expect(error).toMatchObject({ code: "E_MTREE_SYNTAX", path: `line ${k + 1}` });
    }
  });

  it("a plain text (no owner part on its first region) keeps a name that merely ends in ' orphan'", () => {
    const text = [
      "address-space: memory",
      "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
      "    0000000000000000-0000000000000fff (prio 0, ram): an orphan",
      "",
    ].join("\n");
    const names = regionsOf(importQemu({ tree: text }).machine.regions).map((r) => r.name);
    expect(names).toContain("an orphan");
  });
});
