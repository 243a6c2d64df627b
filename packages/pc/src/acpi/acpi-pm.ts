import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/** PM1 control bits (ACPI 1.0b, 4.7.3.2). */
export const ACPI_SCI_EN = 0x0001;
const ACPI_SLP_EN = 0x2000;
/** The ACPI PM timer runs at 3.579545 MHz and is 24 bits wide on PIIX4. */
export const PM_TIMER_FREQUENCY = 3_579_545n;

/** Where the PM timer's time comes from (nanoseconds of virtual time). */
export type NanoClock = () => bigint;

/**
 * The PM1 register blocks QEMU's hw/acpi/core.c puts in the PIIX4 PM I/O window:
 * event status/enable ("acpi-evt", 4 bytes), control ("acpi-cnt", 2) and the PM timer
 * ("acpi-tmr", 4). Status bits clear when written with 1; a sleep request of type 0
 * (S5 on PIIX4) asks the board to shut down.
 */
export class AcpiPm1 {
  status = 0;
  enable = 0;
  control = 0;
  readonly evt: MemoryRegion;
  readonly cnt: MemoryRegion;
  readonly tmr: MemoryRegion;

  /** `onEventWrite` runs after each write to the event block (the SCI follows status and enable). */
  constructor(
    host: MemorySystem,
    clock: NanoClock,
    onShutdown: (reason: string) => void,
    onEventWrite: () => void = () => {},
  ) {
    this.evt = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-evt",
      size: 4n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 2 },
        impl: { minAccessSize: 2, maxAccessSize: 2 },
        read: (offset) => BigInt(offset === 0n ? this.status : this.enable),
        write: (offset, value) => {
          if (offset === 0n) this.status &= ~Number(value);
          else this.enable = Number(value);
          onEventWrite();
        },
      },
    });
    this.cnt = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-cnt",
      size: 2n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 2 },
        impl: { minAccessSize: 2, maxAccessSize: 2 },
        read: () => BigInt(this.control),
        write: (_offset, value) => {
          const v = Number(value);
          this.control = v & ~ACPI_SLP_EN;
          if ((v & ACPI_SLP_EN) !== 0 && ((v >> 10) & 7) === 0) onShutdown("ACPI S5 (PM1 control)");
        },
      },
    });
    this.tmr = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-tmr",
      size: 4n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 4, maxAccessSize: 4 },
        read: () => ((clock() * PM_TIMER_FREQUENCY) / 1_000_000_000n) & 0xff_ffffn,
        write: () => {},
      },
    });
  }

  /** acpi_pm1_cnt_update: the APM commands ACPI_ENABLE/ACPI_DISABLE set or clear SCI_EN. */
  setSciEnabled(on: boolean): void {
    this.control = on ? this.control | ACPI_SCI_EN : this.control & ~ACPI_SCI_EN;
  }

  reset(): void {
    this.status = 0;
    this.enable = 0;
    this.control = 0;
  }
}

export const SYSTEM_STATES_FILE = "etc/system-states";
/** A sleep state's byte in etc/system-states: bit 7 says it is offered, bits 0-2 are its SLP_TYP. */
const STATE_OFFERED = 0x80;

/**
 * acpi_pm1_cnt_init's `etc/system-states`: a byte per S0..S5 for firmware. PIIX4 PM's
 * defaults offer S3 (SLP_TYP 1) and S4 (s4_val 2); S0 and S5 are always on.
 */
export function systemStates(): Uint8Array {
  return Uint8Array.of(STATE_OFFERED, 0, 0, STATE_OFFERED | 1, STATE_OFFERED | 2, STATE_OFFERED);
}
