import { attachKvm, KVM_MEM_READONLY } from "@memtopo/kvm";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { NativeKvm } from "../src/index.js";
import { MemslotMirror } from "../src/memslot-mirror.js";
import { kvm } from "./helpers.js";

// KVM has no ioctl that lists memslots: NativeKvm.memslots() mirrors every call the kernel accepted, so the
// native backend can be listed as the mock is (KvmBackend.memslots).

describe("MemslotMirror", () => {
  it("keeps the last accepted call of each slot, deletes on size 0, orders by address space then address", () => {
    const m = new MemslotMirror();
    m.accepted(1 | (1 << 16), 0, 0x1000n, 0x1000n, 0x7000n);
    m.accepted(3, KVM_MEM_READONLY, 0xf0000n, 0x10000n, 0x9000n);
    m.accepted(2, 0, 0n, 0x1000n, 0x8000n);
    m.accepted(3, 0, 0xf0000n, 0x10000n, 0x9000n);
    expect(m.list().map((s) => [s.asId, s.id, s.guestPhysAddr, s.flags])).toEqual([
      [0, 2, 0n, 0],
      [0, 3, 0xf0000n, 0],
      [1, 1, 0x1000n, 0],
    ]);
    m.accepted(2, 0, 0n, 0n, 0x8000n);
    expect(m.list().map((s) => s.slot)).toEqual([3, 1 | (1 << 16)]);
    const copy = m.list()[0]!;
    (copy as { flags: number }).flags = 99;
    expect(m.list()[0]!.flags).toBe(0);
  });
});

describe.skipIf(!kvm.ok)("NativeKvm.memslots() on /dev/kvm", () => {
  it("lists what the KVM listener made, follows a region going away, and ignores a call the kernel refused", () => {
    const vm = NativeKvm.open();
    try {
      const sys = new MemorySystem({ ramAllocator: vm.ramAllocator });
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x10000n });
      const bios = new MemoryRegion(sys, { kind: "rom", name: "bios", size: 0x10000n });
      system.addSubregion(0n, ram);
      system.addSubregion(0xffff0000n, bios);
      const memory = sys.createAddressSpace("memory", system);
      attachKvm(sys, vm, { memory });
      const live = vm.memslots();
      expect(live.map((s) => [s.guestPhysAddr, s.memorySize, s.flags])).toEqual([
        [0n, 0x10000n, 0],
        [0xffff0000n, 0x10000n, KVM_MEM_READONLY],
      ]);
      expect(live[0]!.userspaceAddr).toBe(ram.ramBlock!.hostAddr);

      // An overlapping slot: the kernel says EEXIST and the mirror keeps what the kernel has.
      const clash = {
        slot: 100,
        flags: 0,
        guestPhysAddr: 0n,
        memorySize: 0x1000n,
        userspaceAddr: live[0]!.userspaceAddr,
      };
      expect(() => vm.setUserMemoryRegion(clash)).toThrow(expect.objectContaining({ code: "EEXIST" }));
      expect(vm.memslots()).toEqual(live);

      bios.setEnabled(false);
      expect(vm.memslots().map((s) => s.guestPhysAddr)).toEqual([0n]);
    } finally {
      vm.close();
    }
    expect(vm.memslots()).toEqual([]);
  });
});
