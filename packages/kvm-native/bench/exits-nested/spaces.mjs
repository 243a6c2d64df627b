// memtopo AddressSpaces shaped like QEMU's targets in bios.S: the port is an I/O region whose write
// does nothing (QEMU's ioport80), the MMIO address 0xd0000 is inside a ROM (QEMU's pc.rom), whose
// write dispatch ends in a decode error as QEMU's does.
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

export const PIO_PORT = 0x3f8n;
export const MMIO_ADDR = 0xd0000n;

export function addressSpaces() {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  system.addSubregion(0n, new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0xa0000n }));
  system.addSubregion(0xc0000n, new MemoryRegion(sys, { kind: "rom", name: "pc.rom", size: 0x20000n }));
  const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  const ops = { read: () => 0n, write() {}, valid: { minAccessSize: 1, maxAccessSize: 4 } };
  io.addSubregion(PIO_PORT, new MemoryRegion(sys, { kind: "io", name: "port", size: 8n, ops }));
  return { memory: sys.createAddressSpace("memory", system), io: sys.createAddressSpace("I/O", io) };
}
