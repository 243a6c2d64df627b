import type { KvmInterrupts } from "@memtopo/kvm";
import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/**
 * The window of a device the kernel emulates (QEMU's kvm-pic, kvm-elcr, kvm-pit,
 * kvm-ioapic): it is in the map so the map is QEMU's, but with the in-kernel irqchip and
 * PIT the kernel answers these accesses and none reaches user space. Without them
 * nothing emulates the device: reads return 0 and writes are dropped.
 */
export function inKernelIo(host: MemorySystem, name: string, size: bigint): MemoryRegion {
  return new MemoryRegion(host, {
    kind: "io",
    name,
    size,
    ops: { endianness: "little", read: () => 0n, write: () => {} },
  });
}

export const APIC_DEFAULT_ADDRESS = 0xfee0_0000n;
/** The local APIC's MMIO window QEMU's kvm-apic claims: 1 MiB from the APIC base. */
export const APIC_SPACE_SIZE = 0x10_0000n;

/**
 * "kvm-apic-msi" (QEMU's hw/i386/kvm/apic.c): the CPU's own APIC accesses stay in the
 * kernel; what reaches this region are device writes to the MSI window, which become
 * KVM_SIGNAL_MSI. Reads return all ones.
 */
export function kvmApicMsi(host: MemorySystem, vm: Partial<Pick<KvmInterrupts, "signalMsi">>): MemoryRegion {
  return new MemoryRegion(host, {
    kind: "io",
    name: "kvm-apic-msi",
    size: APIC_SPACE_SIZE,
    ops: {
      endianness: "little",
      valid: { minAccessSize: 1, maxAccessSize: 4 },
      impl: { minAccessSize: 4, maxAccessSize: 4 },
      read: () => 0xffff_ffffn,
      write: (offset, value) => {
        vm.signalMsi?.({ address: APIC_DEFAULT_ADDRESS + offset, data: Number(value) >>> 0 });
      },
    },
  });
}
