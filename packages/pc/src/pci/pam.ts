import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/**
 * A PAM attribute, the two bits of one segment's nibble: 0 sends the segment to PCI,
 * 1 reads RAM (writes to PCI: QEMU maps it as read-only RAM), 2 writes RAM (reads from
 * PCI: QEMU maps RAM through a second "pam-pci" alias), 3 is RAM.
 */
export type PamMode = 0 | 1 | 2 | 3;

/** The legacy BIOS segment PAM0 covers, and the 12 expansion segments of PAM1..PAM6. */
export const PAM_BIOS_BASE = 0xf_0000n;
export const PAM_BIOS_SIZE = 0x1_0000n;
export const PAM_EXPAN_BASE = 0xc_0000n;
export const PAM_EXPAN_SIZE = 0x4000n;
export const PAM_REGIONS_COUNT = 13;

/**
 * One PAM segment as QEMU's hw/pci-host/pam.c builds it: four aliases over the segment,
 * one per mode, all at priority 1 in system memory; exactly one is enabled.
 */
export class PamSegment {
  readonly start: bigint;
  readonly size: bigint;
  /** Indexed by mode: pam-pci (to PCI), pam-rom (read-only RAM), pam-pci (to RAM), pam-ram. */
  readonly aliases: readonly [MemoryRegion, MemoryRegion, MemoryRegion, MemoryRegion];
  #current: PamMode = 0;

  constructor(
    host: MemorySystem,
    spaces: { ram: MemoryRegion; system: MemoryRegion; pci: MemoryRegion },
    start: bigint,
    size: bigint,
  ) {
    this.start = start;
    this.size = size;
    const alias = (name: string, target: MemoryRegion) =>
      new MemoryRegion(host, { kind: "alias", name, target, offset: start, size });
    const ram = alias("pam-ram", spaces.ram);
    const rom = alias("pam-rom", spaces.ram);
    rom.setReadonly(true);
    const toPci = alias("pam-pci", spaces.pci);
    const writeRam = alias("pam-pci", spaces.ram);
    this.aliases = [toPci, rom, writeRam, ram];
    host.begin();
    try {
      for (const mr of this.aliases) {
        mr.setEnabled(false);
        spaces.system.addSubregionOverlap(start, mr, 1);
      }
    } finally {
      host.commit();
    }
  }

  get mode(): PamMode {
    return this.#current;
  }

  /** pam_update: disable the alias of the old mode, enable the new one (inside the caller's transaction). */
  update(mode: PamMode): void {
    this.aliases[this.#current].setEnabled(false);
    this.#current = mode;
    this.aliases[mode].setEnabled(true);
  }
}

/**
 * The attribute of segment `index` (0 = the BIOS segment, 1..12 the expansion ones) in the
 * PAM register bytes: PAM0's high nibble, then PAM1's low and high nibble, and so on.
 */
export function pamModeOf(registers: Uint8Array, base: number, index: number): PamMode {
  const byte = registers[base + Math.ceil(index / 2)]!;
  return ((index & 1 ? byte : byte >> 4) & 3) as PamMode;
}
