import { MemoryRegion } from "@memtopo/region-tree";
import { devfn } from "./config.js";
import { type PciBusSpaces, PciDevice } from "./pci-device.js";

/** PIIX3 registers: the four PIRQ route control registers and the reset control port. */
export const PIIX_PIRQCA = 0x60;
export const PIIX_NUM_PIRQS = 4;
export const PIIX_PIRQ_DISABLED = 0x80;
export const RCR_IOPORT = 0xcf9n;
/** Reset control: SRST (bit 1) with RCPU (bit 2) resets the system. */
const RCR_SYS_RST = 0x02;
const RCR_RESET_CPU = 0x04;
const RCR_FULL_RST = 0x08;

/** Power-on values QEMU's piix3_reset writes into the function's configuration space. */
const RESET_VALUES: readonly (readonly [number, number])[] = [
  [0x04, 0x07],
  [0x05, 0x00],
  [0x06, 0x00],
  [0x07, 0x02],
  [0x4c, 0x4d],
  [0x4e, 0x03],
  [0x4f, 0x00],
  [0x60, 0x80],
  [0x61, 0x80],
  [0x62, 0x80],
  [0x63, 0x80],
  [0x69, 0x02],
  [0x70, 0x80],
  [0x76, 0x0c],
  [0x77, 0x0c],
  [0x78, 0x02],
  [0x79, 0x00],
  [0x80, 0x00],
  [0x82, 0x00],
  [0xa0, 0x08],
  [0xa2, 0x00],
  [0xa3, 0x00],
  [0xa4, 0x00],
  [0xa5, 0x00],
  [0xa6, 0x00],
  [0xa7, 0x00],
  [0xa8, 0x0f],
  [0xaa, 0x00],
  [0xab, 0x00],
  [0xac, 0x00],
  [0xae, 0x00],
];

/**
 * The PIIX3 PCI-to-ISA bridge (01.0, 8086:7000, multi-function), as QEMU's hw/isa/piix3.c:
 * its reset values (the command 0x07 among them is cleared again by the bus reset that
 * follows, see PciDevice.busReset), the PIRQ routing registers
 * 0x60-0x63 (`pirqRoute`), and the reset control register at 0xcf9, which asks the
 * board for a reset (`onReset`) and, like QEMU, keeps only the bits it defines.
 */
export class Piix3 extends PciDevice {
  rcr = 0;
  readonly resetControl: MemoryRegion;

  constructor(spaces: PciBusSpaces, onReset: (reason: string) => void) {
    super(spaces, {
      name: "PIIX3",
      devfn: devfn(1, 0),
      // The chipset stays: QEMU's class sets hotpluggable = false.
      hotpluggable: false,
      vendorId: 0x8086,
      deviceId: 0x7000,
      revision: 0x00,
      classId: 0x0601,
      multifunction: true,
    });
    this.resetControl = new MemoryRegion(spaces.system, {
      kind: "io",
      name: "piix3-reset-control",
      size: 1n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 1 },
        read: () => BigInt(this.rcr),
        write: (_offset, value) => {
          const v = Number(value);
          if ((v & RCR_SYS_RST) !== 0 && (v & RCR_RESET_CPU) !== 0) onReset("reset control register (0xcf9)");
          this.rcr = v & (RCR_SYS_RST | RCR_FULL_RST);
        },
      },
    });
    this.reset();
  }

  /** piix3_reset: the configuration values above, the reset control register cleared. */
  reset(): void {
    for (const [at, value] of RESET_VALUES) this.config[at] = value;
    this.rcr = 0;
  }

  /** Where PIRQ `n` (A..D = 0..3) is routed: an ISA IRQ number, or null while disabled. */
  pirqRoute(n: number): number | null {
    const value = this.config[PIIX_PIRQCA + n]!;
    return (value & PIIX_PIRQ_DISABLED) !== 0 ? null : value & 0x0f;
  }
}
