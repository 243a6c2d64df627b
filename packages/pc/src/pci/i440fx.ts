import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { devfn, rangesOverlap } from "./config.js";
import {
  PAM_BIOS_BASE,
  PAM_BIOS_SIZE,
  PAM_EXPAN_BASE,
  PAM_EXPAN_SIZE,
  PAM_REGIONS_COUNT,
  PamSegment,
  pamModeOf,
} from "./pam.js";
import { type PciBusSpaces, PciDevice } from "./pci-device.js";

/** i440FX configuration registers (Intel 82441FX datasheet). */
export const I440FX_PAM = 0x59;
export const I440FX_PAM_SIZE = 7;
export const I440FX_SMRAM = 0x72;
/** Where coreboot looks for the RAM size, in 8 MiB units (QEMU fills it in). */
export const I440FX_COREBOOT_RAM_SIZE = 0x57;
/** SMRAM register bits. D_LCK is stored but, as in QEMU, locks nothing. */
export const SMRAM_D_OPEN = 0x40;
export const SMRAM_D_CLS = 0x20;
export const SMRAM_D_LCK = 0x10;
export const SMRAM_G_SMRAME = 0x08;
export const SMRAM_C_BASE_SEG = 0x02;

/** What the host bridge maps: guest RAM, the system and PCI containers. */
export interface I440fxSpaces extends PciBusSpaces {
  readonly ram: MemoryRegion;
  readonly systemMemory: MemoryRegion;
  readonly pci: MemoryRegion;
}

/**
 * The i440FX host bridge function (00.0, 8086:1237), as QEMU's hw/pci-host/i440fx.c:
 * the 13 PAM segments and SMRAM. With D_OPEN clear, "smram-region" shows PCI (the VGA
 * window) over RAM at 0xa0000 to everyone; G_SMRAME enables "smram", the window SMM code
 * sees through "smram-low" onto the RAM below. Every write touching PAM or SMRAM redoes
 * all of it in one transaction (i440fx_update_memory_mappings).
 */
export class I440fx extends PciDevice {
  readonly pam: readonly PamSegment[];
  readonly smramRegion: MemoryRegion;
  readonly smram: MemoryRegion;
  readonly lowSmram: MemoryRegion;
  readonly #host: MemorySystem;

  constructor(spaces: I440fxSpaces, ramSize: bigint) {
    super(spaces, {
      name: "i440FX",
      devfn: devfn(0, 0),
      // The chipset stays: QEMU's class sets hotpluggable = false.
      hotpluggable: false,
      vendorId: 0x8086,
      deviceId: 0x1237,
      revision: 0x02,
      classId: 0x0600,
    });
    const host = spaces.system;
    this.#host = host;
    this.config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    const { systemMemory, pci, ram } = spaces;
    // pc_pci_as_mapping_init: the PCI space under system memory, where RAM does not cover it.
    systemMemory.addSubregionOverlap(0n, pci, -1);

    this.smramRegion = new MemoryRegion(host, {
      kind: "alias",
      name: "smram-region",
      target: pci,
      offset: 0xa_0000n,
      size: 0x2_0000n,
    });
    systemMemory.addSubregionOverlap(0xa_0000n, this.smramRegion, 1);
    this.smramRegion.setEnabled(true);

    this.smram = new MemoryRegion(host, { kind: "container", name: "smram", size: 0x1_0000_0000n });
    this.smram.setEnabled(true);
    this.lowSmram = new MemoryRegion(host, {
      kind: "alias",
      name: "smram-low",
      target: ram,
      offset: 0xa_0000n,
      size: 0x2_0000n,
    });
    this.lowSmram.setEnabled(true);
    this.smram.addSubregion(0xa_0000n, this.lowSmram);

    const pam = [new PamSegment(host, { ram, system: systemMemory, pci }, PAM_BIOS_BASE, PAM_BIOS_SIZE)];
    for (let i = 0; i < PAM_REGIONS_COUNT - 1; i++) {
      const start = PAM_EXPAN_BASE + BigInt(i) * PAM_EXPAN_SIZE;
      pam.push(new PamSegment(host, { ram, system: systemMemory, pci }, start, PAM_EXPAN_SIZE));
    }
    this.pam = pam;

    const units = ramSize / 8n / 1024n / 1024n;
    this.config[I440FX_COREBOOT_RAM_SIZE] = Number(units > 255n ? 255n : units);
    this.updateMemoryMappings();
  }

  /** i440fx_update_memory_mappings: PAM segments from their nibbles, then the two SMRAM bits. */
  updateMemoryMappings(): void {
    this.#host.begin();
    try {
      for (let i = 0; i < this.pam.length; i++) this.pam[i]!.update(pamModeOf(this.config, I440FX_PAM, i));
      const smram = this.config[I440FX_SMRAM]!;
      this.smramRegion.setEnabled((smram & SMRAM_D_OPEN) === 0);
      this.smram.setEnabled((smram & SMRAM_G_SMRAME) !== 0);
    } finally {
      this.#host.commit();
    }
  }

  protected override configWritten(addr: number, len: number): void {
    if (rangesOverlap(addr, len, I440FX_PAM, I440FX_PAM_SIZE) || rangesOverlap(addr, len, I440FX_SMRAM, 1)) {
      this.updateMemoryMappings();
    }
  }
}
