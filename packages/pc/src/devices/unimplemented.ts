import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/**
 * An I/O window of a device this board places (so the map is QEMU's) but does not model,
 * like QEMU's "unimplemented-device": reads return 0 and writes are dropped. SeaBIOS does
 * not program these devices on its way to the boot menu; the README lists which they are.
 */
export function unimplementedIo(host: MemorySystem, name: string, size: bigint): MemoryRegion {
  return new MemoryRegion(host, {
    kind: "io",
    name,
    size,
    ops: { endianness: "little", read: () => 0n, write: () => {} },
  });
}
