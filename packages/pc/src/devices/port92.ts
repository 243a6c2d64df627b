import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

export const PORT92_IOPORT = 0x92n;

/**
 * System control port A (QEMU's hw/i386/port92.c): bit 1 is the A20 gate (KVM guests always
 * have A20 on, so it is only stored), and bit 0 going from 0 to 1 is a fast reset.
 */
export class Port92 {
  outport = 0;
  readonly io: MemoryRegion;

  constructor(host: MemorySystem, onReset: (reason: string) => void) {
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "port92",
      size: 1n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 1 },
        read: () => BigInt(this.outport),
        write: (_offset, value) => {
          const old = this.outport;
          this.outport = Number(value) & 0xff;
          if ((this.outport & 1) !== 0 && (old & 1) === 0) onReset("fast reset (port 0x92)");
        },
      },
    });
  }

  get a20(): boolean {
    return (this.outport & 2) !== 0;
  }
}
