import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { buildDemoMachine } from "../src/demo/machine.js";

function attached() {
  const kvm = new MockKvm();
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const machine = buildDemoMachine(system, kvm.createEventNotifier());
  const bridge = attachKvm(system, kvm, { memory: machine.memory, io: machine.io });
  return { kvm, machine, bridge };
}

describe("the demo machine under the KVM listeners on the mock kernel (kvm_set_user_memory_region, kvm_set_phys_mem, kvm_mem_ioeventfd_add/kvm_io_ioeventfd_add)", () => {
  it("RAM, ROM and VRAM ranges become slots; READONLY from the region, LOG_DIRTY_PAGES from VGA logging", () => {
    const { kvm } = attached();
    expect(kvm.slotSnapshot()).toEqual([
      { gpa: "0x0", size: "0xa0000", flags: [] },
      { gpa: "0xa0000", size: "0x10000", flags: ["log-dirty-pages"] },
      { gpa: "0xc0000", size: "0x20000", flags: [] },
      { gpa: "0xe0000", size: "0x20000", flags: ["readonly"] },
      { gpa: "0x100000", size: "0x7f00000", flags: [] },
      { gpa: "0xfd000000", size: "0x1000000", flags: ["log-dirty-pages"] },
      { gpa: "0xfffc0000", size: "0x40000", flags: ["readonly"] },
      { gpa: "0x100000000", size: "0x8000000", flags: [] },
    ]);
    expect(kvm.ioeventfdSnapshot()).toEqual([
      { space: "mmio", addr: "0xfebf0010", size: 4, datamatch: false, data: "0x0" },
    ]);
  });

  it("a read-only alias of RAM gets a writable slot: the flag comes from the region, not the section", () => {
    const { kvm, machine } = attached();
    machine.setPam(machine.pam.find((s) => s.start === 0xf_0000n)!, "rom");
    expect(kvm.slotSnapshot().filter((s) => s.gpa === "0xf0000")).toEqual([
      { gpa: "0xf0000", size: "0x10000", flags: [] },
    ]);
    expect(machine.memory.currentMap.lookup(0xf_0000n)!.readonly).toBe(true);
  });

  it("a BAR move moves the doorbell's ioeventfd; hasMemory names exactly the slots", () => {
    const { kvm, machine, bridge } = attached();
    machine.demoBar.setAddress(0xfe00_0000n);
    expect(kvm.ioeventfdSnapshot().map((e) => e.addr)).toEqual(["0xfe000010"]);
    expect(bridge.hasMemory(machine.memory, 0xfffc_0000n, 0x4_0000n)).toBe(true);
    expect(bridge.hasMemory(machine.memory, 0xfe00_0000n, 0x1000n)).toBe(false);
    expect(bridge.hasMemory(machine.io, 0n, 0xa_0000n)).toBe(false);
  });
});
