import type { MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";
import { KVM_IOEVENTFD_FLAG_DATAMATCH, type KvmIoeventfd } from "./backend.js";

/**
 * The `struct kvm_ioeventfd` QEMU 7.2 sends for an eventfd section: address and length
 * from the section, DATAMATCH when matching, and the address and data cut to the widths of
 * its helpers (`kvm_set_ioeventfd_mmio` takes 32-bit data; `_pio` a 16-bit port and data).
 */
export function ioeventfdRequest(
  section: MemoryRegionSection,
  matchData: boolean,
  data: bigint,
  notifier: EventNotifier,
  flags: number,
  widths: { addrBits: number; dataBits: number },
): KvmIoeventfd {
  return {
    addr: BigInt.asUintN(widths.addrBits, section.offsetWithinAddressSpace),
    len: Number(section.size),
    datamatch: matchData ? BigInt.asUintN(widths.dataBits, data) : 0n,
    notifier,
    flags: flags | (matchData ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0),
  };
}
