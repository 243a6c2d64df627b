import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/** The legacy block: a bit per APIC ID 0..255 saying the CPU is present (ACPI_GPE_PROC_LEN). */
const LEGACY_LEN = 0x20n;
/** The register block the DSDT's PRST region describes (ACPI_CPU_HOTPLUG_REG_LEN). */
const MODERN_LEN = 0x0cn;
/** Modern registers: selector (write) / command data 2 (read), flags, command, command data. */
const SELECTOR = 0n;
const FLAGS = 4n;
const COMMAND = 5n;
const DATA = 8n;
/** Flags: enabled (read), insert event, remove event (write 1 to clear), eject, firmware eject. */
const FLAG_ENABLED = 1;
const FLAG_INSERTING = 2;
const FLAG_REMOVING = 4;
const FLAG_EJECT = 8;
const FLAG_FW_REMOVE = 16;
/** Commands: select the next CPU with an event, write _OST's event or status, read the CPU's APIC ID. */
const CMD_GET_NEXT_CPU_WITH_EVENT = 0;
const CMD_OST_EVENT = 1;
const CMD_OST_STATUS = 2;
const CMD_GET_CPU_ID = 3;
const CMD_MAX = 4;

/** The state of one possible CPU, by index (APIC ID = index on this board). */
interface CpuSlot {
  readonly archId: number;
  inserting: boolean;
  removing: boolean;
  ostEvent: number;
  ostStatus: number;
}

/**
 * PIIX4's ACPI CPU hot-plug registers for the board's one CPU (the boot CPU, APIC ID 0), as
 * QEMU 7.2's cpu_hotplug.c and cpu.c: at reset the legacy block (`acpi-cpu-hotplug`, 32
 * bytes, the present-CPU bitmap). The DSDT's PRES._INI writes 0 at its start (the CPU
 * selector), which firmware never did to the bitmap: the block is then replaced, in one
 * commit, by the 12-byte register interface the AML uses (CSEL, CPEN, CINS, CRMV, CCMD,
 * CDAT). The boot CPU cannot be ejected; QEMU ignores that request too.
 */
export class AcpiCpuHotplug {
  readonly #host: MemorySystem;
  readonly #parent: MemoryRegion;
  readonly #base: bigint;
  readonly #cpus: CpuSlot[] = [{ archId: 0, inserting: false, removing: false, ostEvent: 0, ostStatus: 0 }];
  #region: MemoryRegion;
  #modern = false;
  #selector = 0;
  #command = CMD_GET_NEXT_CPU_WITH_EVENT;

  constructor(host: MemorySystem, parent: MemoryRegion, base: bigint) {
    this.#host = host;
    this.#parent = parent;
    this.#base = base;
    this.#region = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-cpu-hotplug",
      size: LEGACY_LEN,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        impl: { minAccessSize: 1, maxAccessSize: 1 },
        read: (offset) => BigInt(this.#presentBits(Number(offset))),
        write: (offset, value) => {
          if (!this.#modern && offset === 0n && value === 0n) this.#switchToModern();
        },
      },
    });
    parent.addSubregion(base, this.#region);
  }

  /** The region at the block's base now: the legacy bitmap, or the modern registers after the switch. */
  get region(): MemoryRegion {
    return this.#region;
  }

  get modern(): boolean {
    return this.#modern;
  }

  /** The last _OST event and status the guest reported for CPU `index` (QEMU sends them as ACPI_DEVICE_OST). */
  ost(index: number): { event: number; status: number } | undefined {
    const cpu = this.#cpus[index];
    return cpu === undefined ? undefined : { event: cpu.ostEvent, status: cpu.ostStatus };
  }

  #presentBits(byte: number): number {
    let bits = 0;
    for (const cpu of this.#cpus) if (cpu.archId >> 3 === byte) bits |= 1 << (cpu.archId & 7);
    return bits;
  }

  #switchToModern(): void {
    this.#modern = true;
    const modern = new MemoryRegion(this.#host, {
      kind: "io",
      name: "acpi-cpu-hotplug",
      size: MODERN_LEN,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        read: (offset) => BigInt(this.#read(offset)),
        write: (offset, value) => this.#write(offset, Number(value & 0xffff_ffffn)),
      },
    });
    this.#host.begin();
    try {
      this.#parent.delSubregion(this.#region);
      this.#region = modern;
      this.#parent.addSubregion(this.#base, modern);
    } finally {
      this.#host.commit();
    }
  }

  #read(offset: bigint): number {
    const cpu = this.#cpus[this.#selector];
    if (cpu === undefined) return 0;
    switch (offset) {
      case FLAGS:
        return FLAG_ENABLED | (cpu.inserting ? FLAG_INSERTING : 0) | (cpu.removing ? FLAG_REMOVING : 0);
      case DATA:
        if (this.#command === CMD_GET_NEXT_CPU_WITH_EVENT) return this.#selector;
        return this.#command === CMD_GET_CPU_ID ? cpu.archId : 0;
      default:
        // Command data 2 (the APIC ID's high half) is 0 for every command here.
        return 0;
    }
  }

  #write(offset: bigint, value: number): void {
    if (offset === SELECTOR) {
      this.#selector = value;
      return;
    }
    const cpu = this.#cpus[this.#selector];
    if (cpu === undefined) return;
    if (offset === FLAGS) {
      // One request a write, in this order; eject and firmware eject of the boot CPU are refused.
      if (value & FLAG_INSERTING) cpu.inserting = false;
      else if (value & FLAG_REMOVING) cpu.removing = false;
      else if (value & (FLAG_EJECT | FLAG_FW_REMOVE)) return;
    } else if (offset === COMMAND) {
      if (value >= CMD_MAX) return;
      this.#command = value;
      if (value === CMD_GET_NEXT_CPU_WITH_EVENT) this.#selectNextWithEvent();
    } else if (offset === DATA) {
      if (this.#command === CMD_OST_EVENT) cpu.ostEvent = value;
      else if (this.#command === CMD_OST_STATUS) cpu.ostStatus = value;
    }
  }

  /** From the selected CPU on, wrapping around, the first with an insert or remove event (else unchanged). */
  #selectNextWithEvent(): void {
    const count = this.#cpus.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#selector + step) % count;
      const cpu = this.#cpus[index]!;
      if (cpu.inserting || cpu.removing) {
        this.#selector = index;
        return;
      }
    }
  }
}
