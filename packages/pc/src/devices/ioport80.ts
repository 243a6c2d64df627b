import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/**
 * The PC's delay port 0x80 ("ioport80", firmware writes POST codes there) and the coprocessor
 * port 0xf0 ("ioportF0", which clears the FPU error; only TCG raises that IRQ 13), as
 * QEMU's pc.c has them: writes change nothing, reads float high.
 */
export function ioport80(
  host: MemorySystem,
  name: "ioport80" | "ioportF0",
  onWrite?: (value: number) => void,
): MemoryRegion {
  return new MemoryRegion(host, {
    kind: "io",
    name,
    size: 1n,
    ops: {
      endianness: "little",
      read: (_offset, size) => (1n << BigInt(8 * size)) - 1n,
      write: (_offset, value) => onWrite?.(Number(value & 0xffn)),
    },
  });
}
