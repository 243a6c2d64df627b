import { attachKvm } from "@memtopo/kvm";
import { MockKvm, type MockVcpu } from "@memtopo/kvm-mock";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { type AddressSpace, MemorySystem } from "memtopo";
import { DIRTY_GUEST_HEX, enterWorkload, WORKLOAD_ENTRY, WORKLOAD_PASS_LIMIT } from "../src/workload/index.js";

/** Where hotplugged RAM goes: exactly the area the workload guest writes and sums, [0x10000, 0x80000). */
export const HOTPLUG_BASE = 0x1_0000n;
export const HOTPLUG_SIZE = 0x7_0000n;

/**
 * 64 KiB of boot RAM (the guest's code and counters) and a device-memory container over the
 * area the workload guest dirties: whatever is plugged there is what the guest writes and sums.
 */
export function hotplugMachine(system: MemorySystem): { memory: AddressSpace; area: MemoryRegion; low: MemoryRegion } {
  const root = new MemoryRegion(system, { kind: "container", name: "system", size: SIZE_2_64 });
  const low = new MemoryRegion(system, { kind: "ram", name: "pc.ram", size: 0x1_0000n });
  const area = new MemoryRegion(system, { kind: "container", name: "device-memory", size: HOTPLUG_SIZE });
  system.begin();
  try {
    root.addSubregion(0n, low);
    root.addSubregion(HOTPLUG_BASE, area);
  } finally {
    system.commit();
  }
  const bytes = low.ramBlock!.bytes();
  bytes.set(Buffer.from(DIRTY_GUEST_HEX, "hex"), WORKLOAD_ENTRY);
  new DataView(bytes.buffer).setUint32(WORKLOAD_PASS_LIMIT, 1, true);
  return { memory: system.createAddressSpace("memory", root), area, low };
}

export function mockHotplugMachine(): {
  kvm: MockKvm;
  system: MemorySystem;
  vcpu: MockVcpu;
  memory: AddressSpace;
  area: MemoryRegion;
  low: MemoryRegion;
} {
  const kvm = new MockKvm();
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const { memory, area, low } = hotplugMachine(system);
  attachKvm(system, kvm, { memory });
  const vcpu = kvm.createVcpu(0);
  enterWorkload(vcpu);
  return { kvm, system, vcpu, memory, area, low };
}
