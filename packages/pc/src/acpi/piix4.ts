import { MemoryRegion } from "@memtopo/region-tree";
import { unimplementedIo } from "../devices/unimplemented.js";
import { devfn, rangesOverlap } from "../pci/config.js";
import { type PciBusSpaces, PciDevice } from "../pci/pci-device.js";
import { AcpiPm1, type NanoClock } from "./acpi-pm.js";
import { Apm } from "./apm.js";
import { AcpiCpuHotplug } from "./cpu-hotplug.js";
import { ACPI_PCIHP_ADDR, AcpiPciHotplug, type PciHotplugBus } from "./pci-hotplug.js";

/** PIIX4 power-management function registers (Intel 82371AB datasheet, function 3). */
export const PIIX4_PMBA = 0x40;
export const PIIX4_PMREGMISC = 0x80;
export const PIIX4_DEVACTB = 0x58;
export const PIIX4_SMBBA = 0x90;
export const PIIX4_SMBHSTCFG = 0xd2;
/** DEVACTB bit 25: APMC writes raise an SMI. QEMU sets it at reset when SMM is off. */
export const PIIX4_DEVACTB_APMC_EN = 1 << 25;
/** APM commands the ACPI spec gives the firmware to hand SCI over (FADT ACPI_ENABLE/DISABLE). */
export const ACPI_ENABLE = 0xf1;
export const ACPI_DISABLE = 0xf0;
const PM_IO_SIZE = 0x40n;
/** GPE0's fixed block (QEMU's acpi-gpe0-blk) and the SCI's ISA IRQ, as the FADT reports them. */
export const PIIX4_GPE0_BLK = 0xafe0n;
export const PIIX4_SCI_IRQ = 9;
/** The APM control port, the FADT's SMI_CMD. */
export const APM_CNT_IOPORT = 0xb2;
const CPUHP_BASE = 0xaf00n;

/** What the PM function reports to the board. */
export interface Piix4PmEvents {
  /** An APM command with DEVACTB.APMC_EN set: the board raises an SMI on the vCPU. */
  smi(): void;
  shutdown(reason: string): void;
  /** The SCI's level (ISA IRQ 9) whenever it may have changed. */
  sci?(level: boolean): void;
}

/** PM1 status bits that raise the SCI when enabled (QEMU's ACPI_BITMASK_PM1_COMMON_ENABLED). */
const PM1_COMMON_ENABLED = 0x0521;

const NO_BUS: PciHotplugBus = { functions: [], attach: () => {}, detach: () => {} };

/**
 * The PIIX4 power-management function (01.3, 8086:7113) as far as firmware uses it, after
 * QEMU's hw/acpi/piix4.c: the PM I/O window ("piix4-pm": PM1 event, control, timer) at the
 * base in 0x40 while PMREGMISC (0x80) bit 0 is set; the SMBus window ("pm-smbus") at the
 * base in 0x90 while 0xd2 bit 0 is set; APM at 0xb2/0xb3, where ACPI_ENABLE/DISABLE set
 * SCI_EN and any other command raises an SMI when DEVACTB.APMC_EN is set; GPE0 and the
 * hot-plug windows at their fixed ports.
 */
export class Piix4Pm extends PciDevice {
  readonly pm1: AcpiPm1;
  readonly apm: Apm;
  readonly pmIo: MemoryRegion;
  readonly smbusIo: MemoryRegion;
  readonly gpe: MemoryRegion;
  /** QEMU's ACPI PCI hot-plug block at 0xae00, over bus 0 (`bus` in the options). */
  readonly pciHotplug: AcpiPciHotplug;
  /** The CPU hot-plug block: QEMU's legacy bitmap at reset, its register interface once the DSDT's _INI ran. */
  readonly cpuHotplug: AcpiCpuHotplug;
  readonly #smmEnabled: boolean;
  readonly #spaces: PciBusSpaces;
  readonly #sci: ((level: boolean) => void) | undefined;
  gpeStatus = 0;
  gpeEnable = 0;

  constructor(
    spaces: PciBusSpaces,
    options: { smmEnabled: boolean; smbusBase: number; clock: NanoClock; bus?: PciHotplugBus },
    events: Piix4PmEvents,
  ) {
    super(spaces, {
      name: "PIIX4_PM",
      devfn: devfn(1, 3),
      // The chipset stays: QEMU's class sets hotpluggable = false.
      hotpluggable: false,
      vendorId: 0x8086,
      deviceId: 0x7113,
      revision: 0x03,
      classId: 0x0680,
    });
    this.#smmEnabled = options.smmEnabled;
    this.#spaces = spaces;
    this.#sci = events.sci;
    const host = spaces.system;
    this.config[0x06] = 0x80;
    this.config[0x07] = 0x02;
    this.config[0x3d] = 0x01;

    this.apm = new Apm(host, (value) => {
      if (value === ACPI_ENABLE || value === ACPI_DISABLE) {
        this.pm1.setSciEnabled(value === ACPI_ENABLE);
        return;
      }
      if ((this.readConfig(PIIX4_DEVACTB, 4) & PIIX4_DEVACTB_APMC_EN) !== 0) events.smi();
    });
    spaces.io.addSubregion(BigInt(APM_CNT_IOPORT), this.apm.io);

    if (!this.#smmEnabled) this.config[0x5b] = 0x02;
    this.config[PIIX4_SMBBA] = options.smbusBase | 1;
    this.config[PIIX4_SMBBA + 1] = options.smbusBase >> 8;
    this.config[PIIX4_SMBHSTCFG] = 0x09;
    this.smbusIo = unimplementedIo(host, "pm-smbus", 0x40n);
    this.smbusIo.setEnabled((this.config[PIIX4_SMBHSTCFG]! & 1) !== 0);
    spaces.io.addSubregion(BigInt(options.smbusBase), this.smbusIo);

    this.pmIo = new MemoryRegion(host, { kind: "container", name: "piix4-pm", size: PM_IO_SIZE });
    this.pmIo.setEnabled(false);
    spaces.io.addSubregion(0n, this.pmIo);
    this.pm1 = new AcpiPm1(host, options.clock, events.shutdown, () => this.#updateSci());
    this.pmIo.addSubregion(8n, this.pm1.tmr);
    this.pmIo.addSubregion(0n, this.pm1.evt);
    this.pmIo.addSubregion(4n, this.pm1.cnt);

    this.gpe = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-gpe0",
      size: 4n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        impl: { minAccessSize: 1, maxAccessSize: 1 },
        read: (offset) =>
          BigInt(
            offset < 2n
              ? (this.gpeStatus >> (8 * Number(offset))) & 0xff
              : (this.gpeEnable >> (8 * Number(offset - 2n))) & 0xff,
          ),
        write: (offset, value) => {
          const v = Number(value) & 0xff;
          if (offset < 2n) this.gpeStatus &= ~(v << (8 * Number(offset)));
          else {
            const shift = 8 * Number(offset - 2n);
            this.gpeEnable = (this.gpeEnable & ~(0xff << shift)) | (v << shift);
          }
          this.#updateSci();
        },
      },
    });
    spaces.io.addSubregion(PIIX4_GPE0_BLK, this.gpe);
    this.pciHotplug = new AcpiPciHotplug(host, options.bus ?? NO_BUS, (status) => this.sendGpe(status));
    spaces.io.addSubregion(ACPI_PCIHP_ADDR, this.pciHotplug.io);
    this.cpuHotplug = new AcpiCpuHotplug(host, spaces.io, CPUHP_BASE);
    this.reset();
  }

  /** acpi_send_gpe_event: the GPE0 status bits are set and the SCI follows. */
  sendGpe(status: number): void {
    this.gpeStatus |= status & 0xffff;
    this.#updateSci();
  }

  /** acpi_update_sci: the SCI is high while an enabled PM1 event or an enabled GPE0 (first byte) is pending. */
  #updateSci(): void {
    const pm1 = (this.pm1.status & this.pm1.enable & PM1_COMMON_ENABLED) !== 0;
    const gpe = (this.gpeStatus & this.gpeEnable & 0xff) !== 0;
    this.#sci?.(pm1 || gpe);
  }

  get sciEnabled(): boolean {
    return (this.pm1.control & 1) !== 0;
  }

  /** piix4_reset: DEVACTB cleared (APMC_EN kept set when SMM is off), PM base back to the read-only bit. */
  reset(): void {
    this.config.fill(0, 0x58, 0x5c);
    this.config[PIIX4_PMBA] = 0x01;
    this.config[PIIX4_PMREGMISC] = 0;
    if (!this.#smmEnabled) this.config[0x5b] = 0x02;
    this.pm1.reset();
    this.gpeStatus = 0;
    this.gpeEnable = 0;
    this.pciHotplug.reset();
    this.#pmIoSpaceUpdate();
  }

  protected override configWritten(addr: number, len: number): void {
    if (rangesOverlap(addr, len, PIIX4_PMREGMISC, 1) || rangesOverlap(addr, len, PIIX4_PMBA, 4))
      this.#pmIoSpaceUpdate();
    if (rangesOverlap(addr, len, PIIX4_SMBHSTCFG, 1) || rangesOverlap(addr, len, PIIX4_SMBBA, 4))
      this.#smbusIoSpaceUpdate();
  }

  #pmIoSpaceUpdate(): void {
    const base = BigInt(this.readConfig(PIIX4_PMBA, 4) & 0xffc0);
    this.#spaces.system.begin();
    try {
      this.pmIo.setEnabled((this.config[PIIX4_PMREGMISC]! & 1) !== 0);
      this.pmIo.setAddress(base);
    } finally {
      this.#spaces.system.commit();
    }
  }

  #smbusIoSpaceUpdate(): void {
    const base = BigInt(this.readConfig(PIIX4_SMBBA, 4) & 0xffc0);
    this.#spaces.system.begin();
    try {
      this.smbusIo.setEnabled((this.config[PIIX4_SMBHSTCFG]! & 1) !== 0);
      this.smbusIo.setAddress(base);
    } finally {
      this.#spaces.system.commit();
    }
  }
}
