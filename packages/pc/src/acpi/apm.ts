import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

export const APM_CNT_IOPORT = 0xb2n;

/**
 * Advanced Power Management ports (QEMU's hw/isa/apm.c): 0xb2 is the control register,
 * whose writes are reported to `onControl` (the PM function raises an SMI from there),
 * 0xb3 the status register, a byte the firmware and its SMI handler share.
 */
export class Apm {
  apmc = 0;
  apms = 0;
  readonly io: MemoryRegion;

  constructor(host: MemorySystem, onControl: (value: number) => void) {
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "apm-io",
      size: 2n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 1 },
        read: (offset) => BigInt(offset === 0n ? this.apmc : this.apms),
        write: (offset, value) => {
          if (offset === 0n) {
            this.apmc = Number(value);
            onControl(this.apmc);
          } else {
            this.apms = Number(value);
          }
        },
      },
    });
  }
}
