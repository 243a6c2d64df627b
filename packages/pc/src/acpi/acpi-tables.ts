import { PcError } from "../errors.js";
import { concat, le } from "./aml.js";

/**
 * The fixed ACPI tables of QEMU 7.2's PC (hw/i386/acpi-build.c, hw/acpi/aml-build.c), laid
 * out byte for byte as QEMU lays them out. Checksums are left zero and pointers hold offsets
 * within the tables file: the firmware's table loader fills both in (see bios-linker-loader).
 */

/** The header's identification fields QEMU writes by default. */
const OEM_ID = "BOCHS ";
const OEM_TABLE_ID = "BXPC    ";
const CREATOR_ID = "BXPC";
export const ACPI_HEADER_SIZE = 36;
/** Where the header's checksum byte is. */
export const ACPI_CHECKSUM_OFFSET = 9;

function ascii(text: string, length: number): Uint8Array {
  if (text.length !== length || !/^[\x20-\x7e]*$/.test(text)) {
    throw new PcError("E_PC_ACPI", `"${text}" is not ${length} printable ASCII characters`);
  }
  return new TextEncoder().encode(text);
}

/** A table: the standard header (revision, QEMU's OEM fields, revision 1 of each) before `body`. */
export function acpiTable(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(ACPI_HEADER_SIZE + body.length);
  const view = new DataView(out.buffer);
  out.set(ascii(signature, 4), 0);
  view.setUint32(4, out.length, true);
  out[8] = revision;
  out.set(ascii(OEM_ID, 6), 10);
  out.set(ascii(OEM_TABLE_ID, 8), 16);
  view.setUint32(24, 1, true);
  out.set(ascii(CREATOR_ID, 4), 28);
  view.setUint32(32, 1, true);
  out.set(body, ACPI_HEADER_SIZE);
  return out;
}

/** FACS: 64 bytes, no checksum, everything zero but its signature and length. */
export function buildFacs(): Uint8Array {
  const out = new Uint8Array(64);
  out.set(ascii("FACS", 4), 0);
  new DataView(out.buffer).setUint32(4, out.length, true);
  return out;
}

/** The PIIX4 PM facts the FADT carries (acpi_get_pm_info). */
export interface FadtPm {
  /** The PM I/O base programmed in the PIIX4's PMBA register when the tables are built. */
  readonly pmBase: number;
  readonly gpe0Blk: number;
  readonly sciInt: number;
  readonly smiCmd: number;
  readonly acpiEnable: number;
  readonly acpiDisable: number;
}

/** Offsets of the FADT's pointers (FIRMWARE_CTRL to the FACS, DSDT). */
export const FADT_FACS_OFFSET = 36;
export const FADT_DSDT_OFFSET = 40;
/** FADT flags: WBINVD, PROC_C1, SLP_BUTTON, RTC_S4, USE_PLATFORM_CLOCK. */
const FADT_FLAGS = (1 << 0) | (1 << 2) | (1 << 5) | (1 << 7) | (1 << 15);
/** C2/C3 latencies above 100/1000 us: the states are not supported. */
const NO_C_STATE_LATENCY = 0x0fff;
/** The CMOS register that holds the century. */
const RTC_CENTURY = 0x32;

/**
 * The FADT revision 1 (116 bytes) QEMU builds for the i440FX: PIIX4's PM1a event, control
 * and timer blocks at pmBase, GPE0, SCI on IRQ 9, APM's SMI command port with the ACPI
 * enable/disable values. `facs` and `dsdt` are the tables' offsets in the tables file.
 */
export function buildFadt(pm: FadtPm, facs: number, dsdt: number): Uint8Array {
  const body = new Uint8Array(116 - ACPI_HEADER_SIZE);
  const view = new DataView(body.buffer);
  const at = (offset: number) => offset - ACPI_HEADER_SIZE;
  view.setUint32(at(FADT_FACS_OFFSET), facs, true);
  view.setUint32(at(FADT_DSDT_OFFSET), dsdt, true);
  body[at(44)] = 1; // INT_MODEL: APIC
  view.setUint16(at(46), pm.sciInt, true);
  view.setUint32(at(48), pm.smiCmd, true);
  body[at(52)] = pm.acpiEnable;
  body[at(53)] = pm.acpiDisable;
  view.setUint32(at(56), pm.pmBase, true); // PM1a_EVT_BLK
  view.setUint32(at(64), pm.pmBase + 4, true); // PM1a_CNT_BLK
  view.setUint32(at(76), pm.pmBase + 8, true); // PM_TMR_BLK
  view.setUint32(at(80), pm.gpe0Blk, true);
  body[at(88)] = 4; // PM1_EVT_LEN
  body[at(89)] = 2; // PM1_CNT_LEN
  body[at(91)] = 4; // PM_TMR_LEN
  body[at(92)] = 4; // GPE0_BLK_LEN
  view.setUint16(at(96), NO_C_STATE_LATENCY, true);
  view.setUint16(at(98), NO_C_STATE_LATENCY, true);
  body[at(108)] = RTC_CENTURY;
  view.setUint32(at(112), FADT_FLAGS, true);
  return acpiTable("FACP", 1, body);
}

/** What the MADT describes. */
export interface MadtConfig {
  readonly apicIds: readonly number[];
  readonly ioapicAddress: number;
  /** ISA IRQ 0 goes to GSI 2 (QEMU's irq0 override). */
  readonly irq0Override: boolean;
  /** ISA IRQs that PCI devices share: level-triggered, active high (QEMU's pci_irq_mask). */
  readonly pciIrqs: readonly number[];
}

const LAPIC_ADDRESS = 0xfee0_0000;
const MADT_PCAT_COMPAT = 1;
const LAPIC_ENABLED = 1;
/** MPS INTI flags: active high (1) | level-triggered (3 << 2). */
const INTI_LEVEL_ACTIVE_HIGH = 0x0d;

/** The MADT (APIC, revision 1): one local APIC per vCPU, the IOAPIC, ISA overrides, LINT1 as NMI. */
export function buildMadt(config: MadtConfig): Uint8Array {
  const parts: Uint8Array[] = [concat([le(LAPIC_ADDRESS, 4), le(MADT_PCAT_COMPAT, 4)])];
  config.apicIds.forEach((apicId, uid) => {
    if (apicId > 0xfe || uid > 0xfe) throw new PcError("E_PC_ACPI", `APIC ID ${apicId} needs an x2APIC entry`);
    parts.push(concat([Uint8Array.of(0, 8, uid, apicId), le(LAPIC_ENABLED, 4)]));
  });
  parts.push(concat([Uint8Array.of(1, 12, 0, 0), le(config.ioapicAddress, 4), le(0, 4)]));
  if (config.irq0Override) parts.push(concat([Uint8Array.of(2, 10, 0, 0), le(2, 4), le(0, 2)]));
  for (const irq of config.pciIrqs) {
    parts.push(concat([Uint8Array.of(2, 10, 0, irq), le(irq, 4), le(INTI_LEVEL_ACTIVE_HIGH, 2)]));
  }
  // Local APIC NMI: every processor (0xff), flags conforming, LINT1.
  parts.push(Uint8Array.of(4, 6, 0xff, 0, 0, 1));
  return acpiTable("APIC", 1, concat(parts));
}

/** The HPET table: the block's ID register, its address (system memory GAS), HPET number 0. */
export function buildHpet(eventTimerBlockId: number, base: number): Uint8Array {
  const body = concat([le(eventTimerBlockId, 4), Uint8Array.of(0, 0, 0, 0), le(base, 8), Uint8Array.of(0, 0, 0, 0)]);
  return acpiTable("HPET", 1, body);
}

/** WAET: the PM timer is good (one read suffices), so Windows need not work around it. */
export function buildWaet(): Uint8Array {
  const ACPI_WAET_PM_TIMER_GOOD = 1 << 1;
  return acpiTable("WAET", 1, le(ACPI_WAET_PM_TIMER_GOOD, 4));
}

/** RSDT: the tables' offsets, each a 32-bit pointer the loader relocates. */
export function buildRsdt(offsets: readonly number[]): Uint8Array {
  return acpiTable("RSDT", 1, concat(offsets.map((o) => le(o, 4))));
}

export const RSDP_RSDT_OFFSET = 16;
export const RSDP_SIZE = 20;

/** The ACPI 1.0 RSDP (revision 0, 20 bytes) pointing at the RSDT. */
export function buildRsdp(rsdt: number): Uint8Array {
  const out = new Uint8Array(RSDP_SIZE);
  out.set(ascii("RSD PTR ", 8), 0);
  out.set(ascii(OEM_ID, 6), 9);
  new DataView(out.buffer).setUint32(RSDP_RSDT_OFFSET, rsdt, true);
  return out;
}
