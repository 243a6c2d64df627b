import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { sortByCreation } from "../../src/system/creation-order.js";

// A commit visits the spaces it must in QEMU's order (address_spaces, creation order). The oracle is
// the native sort by creation index, for short lists (insertion sort) and long ones alike.
describe("sortByCreation puts the spaces a commit visits in creation order (QEMU's address_spaces walk)", () => {
  test.prop([fc.uniqueArray(fc.nat(10_000), { maxLength: 40 })])("equals a sort by creation index", (indices) => {
    const items = indices.map((i) => ({ i }));
    const want = [...items].sort((a, b) => a.i - b.i);
    expect(sortByCreation(items, (x) => x.i)).toEqual(want);
  });
});
