import { existsSync } from "node:fs";
import path from "node:path";
import { MockKvm } from "@memtopo/kvm-mock";
import { describe, expect, it } from "vitest";
import { loadMachine } from "../../src/index.js";
import { attachMockKvm, caseNames, casesDir, readCase } from "../conformance/compare.js";

// The KVM memory listener on the mock kernel ends with exactly the memslots
// QEMU 7.2 had live (kvm-slots.json, replayed from an strace of KVM_SET_USER_MEMORY_REGION),
// including QEMU's rule that READONLY comes from the region, not the section (`kvm_set_phys_mem`).
const kvmCases = caseNames().filter((name) => existsSync(path.join(casesDir, name, "kvm-slots.json")));

describe("the live memslots equal QEMU's kvm-slots.json", () => {
  it("covers every case that has one", () => {
    expect(kvmCases.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of kvmCases) {
    it(name, () => {
      const machine = loadMachine(readCase(name, "machine.json"));
      const kernel = new MockKvm();
      expect(attachMockKvm(machine, kernel)).not.toBeNull();
      expect(kernel.slotSnapshot()).toEqual(JSON.parse(readCase(name, "kvm-slots.json")));
      expect(kernel.ioeventfdSnapshot()).toEqual(JSON.parse(readCase(name, "kvm-ioeventfds.json")));
    });
  }
});

describe("slot numbering example (pc, 128 MiB, kvm-x86-pc-held; kvm_set_phys_mem)", () => {
  it("ends with exactly the five slots the doc lists, ROM and BIOS read-only", () => {
    const kernel = new MockKvm();
    attachMockKvm(loadMachine(readCase("kvm-x86-pc-held", "machine.json")), kernel);
    expect(kernel.slotSnapshot()).toEqual([
      { gpa: "0x0", size: "0xa0000", flags: [] },
      { gpa: "0xc0000", size: "0x20000", flags: ["readonly"] },
      { gpa: "0xe0000", size: "0x20000", flags: ["readonly"] },
      { gpa: "0x100000", size: "0x7f00000", flags: [] },
      { gpa: "0xfffc0000", size: "0x40000", flags: ["readonly"] },
    ]);
  });
});
