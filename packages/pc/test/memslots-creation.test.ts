import { describe, expect, it } from "vitest";
import { mockBoard, SIZES } from "./fixtures.js";
import { type MemslotCall, memslotCall, qemuCallsAtCreation, qemuMemslots } from "./memslot-fixtures.js";

// Rule: the board builds its map in QEMU's order, with QEMU's commits, so the KVM_SET_USER_MEMORY_REGION
// calls made while the machine is created (before the first instruction) are QEMU 7.2's, call by call: slot (with
// the SMM address space in bits 16+), flags, guest address and size. The mock kernel checks each call as the real
// one does. QEMU's captures without the kvmvapic ROM (-novapic) are the board's, which has none; at creation the
// calls are the same with it.
describe.each(SIZES)("memslot calls at machine creation, -m $name", ({ name, ramSize }) => {
  for (const dir of [`m${name}-novapic`, `m${name}`]) {
    it(`equal QEMU's first ${qemuCallsAtCreation(dir)} calls (${dir})`, () => {
      const calls: MemslotCall[] = [];
      mockBoard({ ramSize, onMemslot: (region) => calls.push(memslotCall(region)) });
      expect(calls).toEqual(qemuMemslots(dir).slice(0, qemuCallsAtCreation(dir)));
    });
  }
});
