import { MemtopoError } from "@memtopo/region-tree";
import type { MachineRegionJson } from "memtopo";
import { loadMachine, MAX_NESTING } from "memtopo";
import { describe, expect, it } from "vitest";
import type { ImportRegion } from "../../src/import/model.js";
import type { TreeNode } from "../../src/import/parse-tree.js";
import { regionsJson } from "../../src/import/region-json.js";
import { importQemu, printMtree } from "../../src/index.js";
import { aliasChainMtree } from "../corpus/shapes.js";

// No recursion over user-sized data in the importer: no line may be indented more than 256 levels, but a text
// may chain alias targets (each a `memory-region:` section of its own) as long as it likes. What the loader
// refuses as deeper than 256 levels (the longest chain of alias targets and subregions below a region) is
// refused here with the line, before any walk follows the aliases.

function refusal(run: () => unknown): MemtopoError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MemtopoError);
    return error as MemtopoError;
  }
  throw new Error("nothing was thrown");
}

/** The line of `t<i>` in {@link aliasChainMtree}: two header lines, `a0`, then three lines per section. */
const lineOfT = (i: number): number => 3 * i + 3;

describe("an alias chain of 100 000 memory-region sections", { timeout: 300_000 }, () => {
  const hops = 100_000;
  const { tree, flat } = aliasChainMtree(hops);

  it("with its flat view: E_MACHINE_DEPTH at the line of the first region too deep, not a RangeError", () => {
    // The flat-view walk follows aliases: it overflowed the stack here before the chain was measured first.
    const error = refusal(() => importQemu({ tree, flat }));
    expect(error.code).toBe("E_MACHINE_DEPTH");
    // t<hops> is one level high, t<i> is hops - i + 1: the first above 256 is t<hops - 256>.
    expect(error.path).toBe(`line ${lineOfT(hops - MAX_NESTING)}`);
  });

  it("without a flat view: the same refusal at the line, not at a JSON path the text never had", () => {
    const error = refusal(() => importQemu({ tree }));
    expect(error.code).toBe("E_MACHINE_DEPTH");
    expect(error.path).toBe(`line ${lineOfT(hops - MAX_NESTING)}`);
  });
});

describe("the import refuses exactly what the loader refuses", () => {
  it(`a chain ${MAX_NESTING} levels high imports, loads and prints; one more level is refused at system's line`, () => {
    // system ▸ a0 ▸ t1 ▸ … ▸ t<hops>: hops + 2 levels.
    const fits = aliasChainMtree(MAX_NESTING - 2);
    const { machine } = importQemu(fits);
    const loaded = loadMachine(machine);
    expect(printMtree(loaded.addressSpaces, { order: loaded.mtreeOrder })).toBe(fits.tree);
    const error = refusal(() => importQemu(aliasChainMtree(MAX_NESTING - 1)));
    expect(error.code).toBe("E_MACHINE_DEPTH");
    expect(error.path).toBe("line 2");
  });
});

function node(line: number, name: string, parent: TreeNode | null): TreeNode {
  return {
    line,
    name,
    start: 0n,
    end: 0xfffn,
    priority: 0,
    nonvolatile: false,
    type: "i/o",
    disabled: false,
    alias: null,
    children: [],
    parent,
    hidden: false,
    owner: null,
  };
}

function region(n: TreeNode, parent: ImportRegion | null): ImportRegion {
  return {
    index: 0,
    node: n,
    name: n.name,
    priority: 0,
    nonvolatile: false,
    type: n.type,
    enabled: true,
    addr: 0n,
    size: 0x1000n,
    sizeSettled: false,
    parent,
    children: [],
    alias: null,
    aliasOffset: 0n,
    readonly: false,
    seenInFlat: false,
    mustBeContainer: false,
    mustBeIo: false,
    before: new Set(),
  };
}

describe("writing the model as machine-file regions", () => {
  it("a model 100 000 levels deep is written without recursion, every level nested in its container", () => {
    const depth = 100_000;
    const top = region(node(1, "c0", null), null);
    const idOf = new Map<ImportRegion, string>([[top, "r0"]]);
    let at = top;
    for (let i = 1; i < depth; i++) {
      const child = region(node(i + 1, `c${i}`, at.node), at);
      at.children.push(child);
      idOf.set(child, `r${i}`);
      at = child;
    }
    let containers = 0;
    const [json] = regionsJson([top], idOf, (r) => {
      containers++;
      return [...r.children];
    });
    expect(containers).toBe(depth - 1);
    let level = 0;
    let j: MachineRegionJson | undefined = json;
    let last = json!;
    while (j !== undefined) {
      expect(j.id).toBe(`r${level}`);
      // Only the top may leave out its place and priority.
      if (level > 0) expect([j.addr, j.priority]).toEqual(["0x0", 0]);
      last = j;
      j = j.subregions?.[0];
      level++;
    }
    expect(level).toBe(depth);
    expect(last.kind).toBe("io");
    expect(json!.kind).toBe("container");
  });

  it("subregions are written last-added first, in the order the list order gives", () => {
    const top = region(node(1, "top", null), null);
    const kids = ["a", "b", "c"].map((name, i) => region(node(i + 2, name, top.node), top));
    top.children.push(...kids);
    const idOf = new Map<ImportRegion, string>([top, ...kids].map((r) => [r, r.name]));
    const [json] = regionsJson([top], idOf, (r) => [r.children[1]!, r.children[2]!, r.children[0]!]);
    expect(json!.subregions!.map((s) => s.id)).toEqual(["a", "c", "b"]);
  });
});
