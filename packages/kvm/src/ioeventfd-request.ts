import type { MemoryRegionSection } from "@memtopo/listener-bus";
import { bswap, type EventNotifier } from "@memtopo/region-tree";
import { KVM_IOEVENTFD_FLAG_DATAMATCH, type KvmIoeventfd } from "./backend.js";

/** This host's byte order: the kernel compares datamatch values in it. */
const HOST_BIG_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

/** How the listeners cut and order ioeventfd values. */
export interface IoeventfdWidths {
  readonly addrBits: number;
  readonly dataBits: number;
  /** The guest's byte order; the memory core hands data in it. */
  readonly targetBigEndian: boolean;
}

/**
 * The `struct kvm_ioeventfd` QEMU 7.2 sends for an eventfd section: address and length
 * from the section, DATAMATCH when matching, and the address and data cut to the widths of
 * its helpers (`kvm_set_ioeventfd_mmio` takes 32-bit data; `_pio` a 16-bit port and data).
 * When guest and host byte orders differ, 2- and 4-byte data are then byte-swapped
 * (`adjust_ioeventfd_endianness`): the kernel compares in host order.
 */
export function ioeventfdRequest(
  section: MemoryRegionSection,
  matchData: boolean,
  data: bigint,
  notifier: EventNotifier,
  flags: number,
  widths: IoeventfdWidths,
): KvmIoeventfd {
  const len = Number(section.size);
  let datamatch = matchData ? BigInt.asUintN(widths.dataBits, data) : 0n;
  if (matchData && widths.targetBigEndian !== HOST_BIG_ENDIAN && (len === 2 || len === 4)) {
    datamatch = bswap(datamatch, len);
  }
  return {
    addr: BigInt.asUintN(widths.addrBits, section.offsetWithinAddressSpace),
    len,
    datamatch,
    notifier,
    flags: flags | (matchData ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0),
  };
}
