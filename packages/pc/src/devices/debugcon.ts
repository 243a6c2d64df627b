import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

export const DEBUGCON_IOPORT = 0x402n;
/** What a read of the port returns: QEMU's default `readback` (0xe9, Bochs' port). */
const DEBUGCON_READBACK = 0xe9n;

/**
 * QEMU's isa-debugcon (hw/char/debugcon.c): every byte written to the port is one
 * character of the firmware's debug log, handed to `onByte` (SeaBIOS writes its log here).
 */
export class Debugcon {
  readonly io: MemoryRegion;

  constructor(host: MemorySystem, onByte: (byte: number) => void) {
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "isa-debugcon",
      size: 1n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 1 },
        read: () => DEBUGCON_READBACK,
        write: (_offset, value) => onByte(Number(value & 0xffn)),
      },
    });
  }
}
