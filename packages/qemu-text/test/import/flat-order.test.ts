import { MemtopoError } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { importQemu } from "../../src/index.js";

// QEMU prints a FlatView's ranges sorted by address and disjoint (flatview_insert keeps them so); the flat hints
// search them by address. A flat text whose ranges go back, overlap or end below their start was not printed by
// QEMU: it is refused at its line, not read into wrong hints.

const tree = [
  "address-space: memory",
  "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
  "    0000000000000000-0000000000000fff (prio 0, ram): a",
  "    0000000000001000-0000000000001fff (prio 0, ram): b",
  "",
].join("\n");

const flat = (ranges: readonly string[]): string =>
  ["FlatView #0", ' AS "memory", root: system', " Root memory region: system", ...ranges, ""].join("\n");

const A = "  0000000000000000-0000000000000fff (prio 0, ram): a";
const B = "  0000000000001000-0000000000001fff (prio 0, ram): b";

function refusal(ranges: readonly string[]): { code: string; path: string | undefined } {
  try {
    importQemu({ tree, flat: flat(ranges) });
  } catch (error) {
    expect(error).toBeInstanceOf(MemtopoError);
    return { code: (error as MemtopoError).code, path: (error as MemtopoError).path };
  }
  throw new Error("nothing was thrown");
}

describe("a FlatView's ranges ascend without overlap", () => {
  it("in QEMU's order the flat text is read", () => {
    expect(() => importQemu({ tree, flat: flat([A, B]) })).not.toThrow();
  });

  it("a range below the one before it is E_MTREE_SYNTAX at its line", () => {
    expect(refusal([B, A])).toEqual({ code: "E_MTREE_SYNTAX", path: "line 5" });
  });

  it("a range overlapping the one before it is E_MTREE_SYNTAX at its line", () => {
    const overlapping = "  0000000000000800-0000000000001fff (prio 0, ram): b @0000000000000000";
    expect(refusal([A, overlapping])).toEqual({ code: "E_MTREE_SYNTAX", path: "line 5" });
  });

  it("a range that ends below its start is E_MTREE_SYNTAX at its line", () => {
    expect(refusal(["  0000000000001000-0000000000000fff (prio 0, ram): b"])).toEqual({
      code: "E_MTREE_SYNTAX",
      path: "line 4",
    });
  });
});
