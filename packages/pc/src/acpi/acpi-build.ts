import { describeValue } from "@memtopo/region-tree";
import type { FwCfg } from "../devices/fw-cfg.js";
import { PcError } from "../errors.js";
import type { RamSplit } from "../ram-split.js";
import {
  ACPI_CHECKSUM_OFFSET,
  acpiTable,
  buildFacs,
  buildFadt,
  buildHpet,
  buildMadt,
  buildRsdp,
  buildRsdt,
  buildWaet,
  FADT_DSDT_OFFSET,
  FADT_FACS_OFFSET,
  type FadtPm,
  RSDP_RSDT_OFFSET,
  RSDP_SIZE,
} from "./acpi-tables.js";
import type { Aml } from "./aml.js";
import { BiosLinkerLoader, LOADER_ZONE } from "./bios-linker-loader.js";
import { buildDsdtAml, type DsdtConfig } from "./dsdt.js";

export const ACPI_TABLES_FILE = "etc/acpi/tables";
export const ACPI_RSDP_FILE = "etc/acpi/rsdp";
export const TABLE_LOADER_FILE = "etc/table-loader";
export const TPM_LOG_FILE = "etc/tpm/log";
/** QEMU pads the tables to 128 KiB and the loader to 4 KiB, so their sizes stay fixed across rebuilds. */
export const ACPI_BUILD_TABLE_SIZE = 0x2_0000;
const ACPI_BUILD_ALIGN_SIZE = 0x1000;
const GIB = 0x4000_0000n;
/** i440fx's default pci-hole64-size. */
const PCI_HOLE64_SIZE = 2n * GIB;
const IOAPIC_ADDRESS = 0xfec0_0000;
const HPET_ADDRESS = 0xfed0_0000;
/** The HPET's capabilities as the ACPI HPET table reports them: Intel, 3 timers, 64-bit, legacy routing. */
const HPET_EVENT_TIMER_BLOCK_ID = 0x8086_a201;
/** ISA IRQs PCI interrupts are routed to (QEMU's default pci_irq_mask). */
const PCI_IRQS = [5, 9, 10, 11];

/** What the tables describe: read from the machine each time they are built. */
export interface AcpiBuildConfig {
  readonly pm: FadtPm;
  readonly ramSplit: RamSplit;
  readonly cpus: number;
  readonly hpet: boolean;
}

export interface AcpiBuildResult {
  readonly tables: Uint8Array;
  readonly rsdp: Uint8Array;
  readonly loader: Uint8Array;
}

/** The 64-bit PCI window: from the first GiB boundary above RAM, pci-hole64-size long. */
function pciHole64(ram: RamSplit): { start: bigint; end: bigint } {
  const top = 0x1_0000_0000n + ram.above4g;
  const start = ((top + GIB - 1n) / GIB) * GIB;
  return { start, end: start + PCI_HOLE64_SIZE - 1n };
}

/**
 * acpi_build for the i440FX: FACS, DSDT, FADT, MADT, HPET, WAET and RSDT in one file padded
 * to 128 KiB, the RSDP in its own (for the F-segment), and the loader script that allocates
 * both, relocates every pointer and fixes every checksum in QEMU's order.
 */
export function acpiBuild(config: AcpiBuildConfig, dsdtAml: (dsdt: DsdtConfig) => Aml = buildDsdtAml): AcpiBuildResult {
  if (!Number.isInteger(config.cpus) || config.cpus < 1) {
    throw new PcError("E_PC_ACPI", `the ACPI tables need at least one vCPU, got ${describeValue(config.cpus)}`);
  }
  const tables: Uint8Array[] = [];
  let size = 0;
  const push = (table: Uint8Array) => {
    const offset = size;
    tables.push(table);
    size += table.length;
    return offset;
  };
  const loader = new BiosLinkerLoader();

  const facs = push(buildFacs());
  const dsdtTable = acpiTable(
    "DSDT",
    1,
    dsdtAml({
      pciHoleStart: config.ramSplit.below4g,
      pciHole64: pciHole64(config.ramSplit),
      hpet: config.hpet,
      cpus: config.cpus,
    }),
  );
  const dsdt = push(dsdtTable);
  const fadt = push(buildFadt(config.pm, facs, dsdt));
  const madt = push(
    buildMadt({
      apicIds: Array.from({ length: config.cpus }, (_, i) => i),
      ioapicAddress: IOAPIC_ADDRESS,
      irq0Override: true,
      pciIrqs: PCI_IRQS,
    }),
  );
  const listed = [fadt, madt];
  if (config.hpet) listed.push(push(buildHpet(HPET_EVENT_TIMER_BLOCK_ID, HPET_ADDRESS)));
  listed.push(push(buildWaet()));
  const rsdt = push(buildRsdt(listed));

  if (size > ACPI_BUILD_TABLE_SIZE) {
    throw new PcError("E_PC_ACPI", `the ACPI tables take ${size} bytes, more than QEMU's ${ACPI_BUILD_TABLE_SIZE}`);
  }
  const blob = new Uint8Array(ACPI_BUILD_TABLE_SIZE);
  let at = 0;
  for (const t of tables) {
    blob.set(t, at);
    at += t.length;
  }
  const tableLength = (offset: number) => new DataView(blob.buffer).getUint32(offset + 4, true);

  loader.addFile(ACPI_RSDP_FILE, RSDP_SIZE);
  loader.addFile(ACPI_TABLES_FILE, blob.length);
  loader.allocate(ACPI_RSDP_FILE, 16, LOADER_ZONE.fseg);
  loader.allocate(ACPI_TABLES_FILE, 64, LOADER_ZONE.high);
  const checksum = (offset: number) => {
    loader.addChecksum(ACPI_TABLES_FILE, offset, tableLength(offset), offset + ACPI_CHECKSUM_OFFSET);
  };
  const pointer = (offset: number) => {
    loader.addPointer(ACPI_TABLES_FILE, offset, 4, ACPI_TABLES_FILE);
  };
  checksum(dsdt);
  pointer(fadt + FADT_FACS_OFFSET);
  pointer(fadt + FADT_DSDT_OFFSET);
  checksum(fadt);
  for (const offset of listed.slice(1)) checksum(offset);
  for (let i = 0; i < listed.length; i++) pointer(rsdt + 36 + 4 * i);
  checksum(rsdt);
  const rsdp = buildRsdp(rsdt);
  loader.addPointer(ACPI_RSDP_FILE, RSDP_RSDT_OFFSET, 4, ACPI_TABLES_FILE);
  loader.addChecksum(ACPI_RSDP_FILE, 0, RSDP_SIZE, 8);
  return { tables: blob, rsdp, loader: loader.bytes(ACPI_BUILD_ALIGN_SIZE) };
}

/**
 * acpi_setup: the three files in fw_cfg, rebuilt from the machine's state the first time
 * firmware selects any of them (acpi_build_update; the board stops at a reset, so once per
 * run), so the FADT holds the PM base the firmware programmed before it loads the tables.
 * Sizes never change.
 */
export function acpiSetup(fwCfg: FwCfg, config: () => AcpiBuildConfig): void {
  // The firmware's select rebuilds the tables for the PM base it programmed; the DSDT does not
  // depend on it, and encoding its 6 KiB of AML again is most of a build.
  const dsdtAml = sameInputsOnce(buildDsdtAml);
  const first = acpiBuild(config(), dsdtAml);
  let patched = false;
  const update = () => {
    if (patched) return;
    patched = true;
    const next = acpiBuild(config(), dsdtAml);
    first.tables.set(next.tables);
    first.rsdp.set(next.rsdp);
    first.loader.set(next.loader);
  };
  fwCfg.addFile(ACPI_TABLES_FILE, first.tables, update);
  fwCfg.addFile(ACPI_RSDP_FILE, first.rsdp, update);
  fwCfg.addFile(TABLE_LOADER_FILE, first.loader, update);
  // The TPM event log: empty without a TPM, but offered, as SeaBIOS finds it under QEMU.
  fwCfg.addFile(TPM_LOG_FILE, new Uint8Array(0));
}

/** `build`, answered from its last result while the DSDT's inputs are the same. */
function sameInputsOnce(build: (dsdt: DsdtConfig) => Aml): (dsdt: DsdtConfig) => Aml {
  let last: { key: string; aml: Aml } | null = null;
  return (dsdt) => {
    const key = `${dsdt.pciHoleStart}:${dsdt.pciHole64.start}:${dsdt.pciHole64.end}:${dsdt.hpet}:${dsdt.cpus}`;
    if (last === null || last.key !== key) last = { key, aml: build(dsdt) };
    return last.aml;
  };
}
