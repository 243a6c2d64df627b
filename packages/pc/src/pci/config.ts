/** Offsets and bits of the standard PCI configuration header (PCI Local Bus spec 3.0). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
/** Where the device-specific part of configuration space starts. */
export const PCI_CONFIG_HEADER_SIZE = 0x40;
export const PCI_CONFIG_SPACE_SIZE = 0x100;

export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1af4;
export const PCI_SUBDEVICE_ID_QEMU = 0x1100;
/** Status bits software clears by writing 1: parity, target/master aborts, SERR, detected parity. */
export const PCI_STATUS_W1C = 0xf900;

/** `bus`/`devfn` of one function, as the 0xcf8 address register encodes them. */
export function devfn(device: number, fn: number): number {
  return (device << 3) | fn;
}

/** True when [addr, addr+len) and [start, start+size) share a byte (QEMU's ranges_overlap). */
export function rangesOverlap(addr: number, len: number, start: number, size: number): boolean {
  return addr < start + size && start < addr + len;
}
