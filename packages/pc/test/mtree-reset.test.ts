import { printMtree, printMtreeFlat } from "@memtopo/qemu-text";
import { describe, expect, it } from "vitest";
import { blockOrder, flatOrder, mockBoard, qemuFixture, SIZES } from "./fixtures.js";

// Rule: the board builds QEMU 7.2's `-M pc -nodefaults -accel kvm` map, so at reset its
// `info mtree` (plain, -D and -f) prints what QEMU printed, byte for byte, for each -m.
describe.each(SIZES)("info mtree at reset, -m $name", ({ name, ramSize }) => {
  for (const variant of [
    { dir: `m${name}-novapic`, vapic: false },
    { dir: `m${name}`, vapic: true },
  ]) {
    const tree = qemuFixture(variant.dir, "mtree-reset.txt");
    it.skipIf(tree === null)(`${variant.dir}: info mtree equals QEMU's`, () => {
      const { board } = mockBoard({ ramSize, vapic: variant.vapic });
      const order = blockOrder(tree!, board.addressSpaces);
      expect(printMtree(board.addressSpaces, { order })).toBe(tree);
    });
    const disabled = qemuFixture(variant.dir, "mtree-reset-D.txt");
    it.skipIf(disabled === null)(`${variant.dir}: info mtree -D equals QEMU's`, () => {
      const { board } = mockBoard({ ramSize, vapic: variant.vapic });
      const order = blockOrder(disabled!, board.addressSpaces);
      expect(printMtree(board.addressSpaces, { order, disabled: true })).toBe(disabled);
    });
    const flat = qemuFixture(variant.dir, "mtree-reset-f.txt");
    it.skipIf(flat === null)(`${variant.dir}: info mtree -f equals QEMU's`, () => {
      const { board } = mockBoard({ ramSize, vapic: variant.vapic });
      const spaces = flatOrder(flat!, board.addressSpaces);
      expect(printMtreeFlat(spaces, { accelHasMemory: board.hasMemory, accelName: "KVM" })).toBe(flat);
    });
  }
});
