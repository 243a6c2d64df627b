import { KVM_CAP, type KvmBackend, KvmMemoryListener } from "@memtopo/kvm";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";

/**
 * register_smram_listener (QEMU's KVM, at machine done): "KVM-SMRAM" is system memory
 * ("mem-smram", priority 0) under the chipset's "smram" (priority 10, enabled here), and a
 * KVM memory listener puts it in KVM address space 1, which the vCPU uses in SMM. Null
 * when the kernel has a single address space.
 */
export function registerSmramListener(
  system: MemorySystem,
  kvm: KvmBackend,
  systemMemory: MemoryRegion,
  smram: MemoryRegion,
): { space: AddressSpace; listener: KvmMemoryListener } | null {
  if (kvm.checkExtension(KVM_CAP.MULTI_ADDRESS_SPACE) < 2) return null;
  const root = new MemoryRegion(system, { kind: "container", name: "mem-container-smram", size: SIZE_2_64 });
  root.setEnabled(true);
  const mem = new MemoryRegion(system, {
    kind: "alias",
    name: "mem-smram",
    target: systemMemory,
    offset: 0n,
    size: SIZE_2_64,
  });
  root.addSubregionOverlap(0n, mem, 0);
  mem.setEnabled(true);
  root.addSubregionOverlap(0n, smram, 10);
  smram.setEnabled(true);
  const space = system.createAddressSpace("KVM-SMRAM", root);
  const listener = new KvmMemoryListener(kvm, system, { asId: 1, name: "kvm-smram" });
  system.registerListener(listener, space);
  return { space, listener };
}
