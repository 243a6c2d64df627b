import { describeValue } from "@memtopo/region-tree";
import { PcError } from "../errors.js";
import {
  type Aml,
  buffer,
  concat,
  device,
  eisaId,
  FIELD_ACCESS,
  FIELD_LOCK,
  field,
  ifThen,
  int,
  lequal,
  lgreater,
  local,
  lor,
  method,
  name,
  operationRegion,
  packageOf,
  REGION_SPACE,
  ref,
  returnOf,
  scope,
  shiftRight,
  store,
  string,
} from "./aml.js";
import {
  dma,
  dwordMemory,
  io,
  irqNoFlags,
  MEM_RW_CACHEABLE,
  MEM_RW_NON_CACHEABLE,
  memory32Fixed,
  qwordMemory,
  resourceTemplate,
  wordBusNumber,
  wordIo,
} from "./aml-resources.js";
import { cpuHotplugAml } from "./dsdt-cpu-hotplug.js";
import { debugAml } from "./dsdt-debug.js";
import { pciBusAml, pciHotplugAml, pciHotplugGpe } from "./dsdt-pci-hotplug.js";
import { piix4Pci0Int } from "./dsdt-pci-irq.js";

/** What the DSDT describes that depends on the machine. */
export interface DsdtConfig {
  /** The 32-bit PCI window: from the end of RAM below 4 GiB to the IOAPIC. */
  readonly pciHoleStart: bigint;
  /** The 64-bit PCI window (i440fx's pci-hole64), inclusive. */
  readonly pciHole64: { readonly start: bigint; readonly end: bigint };
  readonly hpet: boolean;
  /** Present CPUs (APIC IDs 0..cpus-1), 1..255: each is a Processor object with an xAPIC _MAT. */
  readonly cpus: number;
}

/** The most CPUs whose Processor ids and _MAT APIC IDs fit a byte. */
const MAX_XAPIC_CPUS = 255;

const HPET_BASE = 0xfed0_0000;
const HPET_LEN = 0x400;
const PCI_HOLE_END = 0xfebf_ffffn;
/** The HPET's period (femtoseconds) above which the guest should not use it (build_hpet_aml). */
const HPET_MAX_PERIOD = 100_000_000;
/** _STA "present, enabled, shown, functioning", and the same without "shown" for resource holders. */
const STA_PRESENT = 0x0f;
const STA_HIDDEN = 0x0b;

/** `\_SB.PCI0`, the i440FX root bus (build_dsdt's first PCI0 device). */
function pci0(): Aml {
  return scope("_SB", [device("PCI0", [name("_HID", eisaId("PNP0A03")), name("_ADR", int(0)), name("_UID", int(0))])]);
}

/** The HPET device, hidden when its registers read no vendor or a too long period (build_hpet_aml). */
function hpet(): Aml {
  const vend = ref("VEND");
  const prd = ref("PRD");
  return scope("_SB", [
    device("HPET", [
      name("_HID", eisaId("PNP0103")),
      name("_UID", int(0)),
      operationRegion("HPTM", REGION_SPACE.systemMemory, HPET_BASE, HPET_LEN),
      field("HPTM", FIELD_ACCESS.dword | FIELD_LOCK, [
        { name: "VEND", bits: 32 },
        { name: "PRD", bits: 32 },
      ]),
      method("_STA", 0, [
        store(vend, local(0)),
        store(prd, local(1)),
        shiftRight(local(0), int(16), local(0)),
        ifThen(lor(lequal(local(0), int(0)), lequal(local(0), int(0xffff))), [returnOf(int(0))]),
        ifThen(lor(lequal(local(1), int(0)), lgreater(local(1), int(HPET_MAX_PERIOD))), [returnOf(int(0))]),
        returnOf(int(STA_PRESENT)),
      ]),
      name("_CRS", resourceTemplate([memory32Fixed(HPET_BASE, HPET_LEN, false)])),
    ]),
  ]);
}

/** The GPE block device (ACPI0006) that the PIIX4's GPE0 events belong to. */
function gpeScope(): Aml {
  return scope("_GPE", [name("_HID", string("ACPI0006"))]);
}

/** A motherboard resource holder (PNP0A06) claiming one fixed I/O range. */
function ioHolder(seg: string, uid: string, base: number, length: number): Aml {
  return device(seg, [
    name("_HID", string("PNP0A06")),
    name("_UID", string(uid)),
    name("_STA", int(STA_HIDDEN)),
    name("_CRS", resourceTemplate([io(base, base, 1, length)])),
  ]);
}

/** PCI0's windows (bus numbers, config ports, I/O, VGA, 32- and 64-bit holes) and its fixed I/O holders. */
function pci0Resources(config: DsdtConfig): Aml {
  const crs = resourceTemplate([
    wordBusNumber(0, 0xff),
    io(0xcf8, 0xcf8, 1, 8),
    wordIo(0x0000, 0x0cf7),
    wordIo(0x0d00, 0xffff),
    dwordMemory(0xa_0000n, 0xb_ffffn, MEM_RW_CACHEABLE),
    dwordMemory(config.pciHoleStart, PCI_HOLE_END, MEM_RW_NON_CACHEABLE),
    qwordMemory(config.pciHole64.start, config.pciHole64.end, MEM_RW_CACHEABLE),
  ]);
  return scope("\\_SB.PCI0", [
    name("_CRS", crs),
    ioHolder("GPE0", "GPE0 resources", 0xafe0, 4),
    ioHolder("PHPR", "PCI Hotplug resources", 0xae00, 0x18),
  ]);
}

/** \_S3, \_S4, \_S5: the PM1 SLP_TYP values of the sleep states PIIX4 PM offers. */
function sleepStates(): Aml {
  return scope("\\", [
    name("_S3", packageOf([int(1), int(1), int(0), int(0)])),
    name("_S4", packageOf([int(2), int(2), int(0), int(0)])),
    name("_S5", packageOf([int(0), int(0), int(0), int(0)])),
  ]);
}

/** The fw_cfg device (QEMU0002) at 0x510, 12 ports with the DMA registers. */
function fwCfg(): Aml {
  return scope("\\_SB.PCI0", [
    device("FWCF", [
      name("_HID", string("QEMU0002")),
      name("_STA", int(STA_HIDDEN)),
      name("_CRS", resourceTemplate([io(0x510, 0x510, 1, 0x0c)])),
    ]),
  ]);
}

/** The i8042 keyboard (PNP0303). */
function keyboard(): Aml {
  return device("KBD", [
    name("_HID", eisaId("PNP0303")),
    name("_STA", int(STA_PRESENT)),
    name("_CRS", resourceTemplate([io(0x60, 0x60, 1, 1), io(0x64, 0x64, 1, 1), irqNoFlags(1)])),
  ]);
}

/** The i8042's mouse (PNP0F13). */
function mouse(): Aml {
  return device("MOU", [
    name("_HID", eisaId("PNP0F13")),
    name("_STA", int(STA_PRESENT)),
    name("_CRS", resourceTemplate([irqNoFlags(12)])),
  ]);
}

/** The floppy controller (PNP0700) with no drives: _FDE lists four absent drives and no tape. */
function floppy(): Aml {
  const fde = new Uint8Array(20);
  fde[16] = 2;
  return device("FDC0", [
    name("_HID", eisaId("PNP0700")),
    name("_CRS", resourceTemplate([io(0x3f2, 0x3f2, 0, 4), io(0x3f7, 0x3f7, 0, 1), irqNoFlags(6), dma(2)])),
    name("_FDE", buffer(fde)),
  ]);
}

/** The MC146818 RTC (PNP0B00). */
function rtc(): Aml {
  return device("RTC", [
    name("_HID", eisaId("PNP0B00")),
    name("_CRS", resourceTemplate([io(0x70, 0x70, 1, 8), irqNoFlags(8)])),
  ]);
}

/**
 * What PIIX3's slot (00:01) holds besides its slot objects: the PIRQ route registers
 * (0x60-0x63 as PRQ0-PRQ3, which the interrupt links use) and the ISA devices the board has.
 */
function isaBridge(): Aml[] {
  return [
    operationRegion("P40C", REGION_SPACE.pciConfig, 0x60, 4),
    scope("\\_SB", [
      field("PCI0.S08.P40C", FIELD_ACCESS.byte, [
        { name: "PRQ0", bits: 8 },
        { name: "PRQ1", bits: 8 },
        { name: "PRQ2", bits: 8 },
        { name: "PRQ3", bits: 8 },
      ]),
    ]),
    keyboard(),
    mouse(),
    floppy(),
    rtc(),
  ];
}

/**
 * The DSDT's definition block for the board, in build_dsdt's order for the i440FX with
 * PIIX4 PM: the debug method, PCI0, PCI hot-plug registers and methods, the PCI interrupt
 * links and _PRT, HPET, the GPE block, CPU hot-plug with the Processor objects, PCI0's
 * windows, sleep states, fw_cfg, the slots of bus 0 (PIIX3 with the ISA devices), and the
 * PCI hot-plug GPE handler.
 */
export function buildDsdtAml(config: DsdtConfig): Aml {
  if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > MAX_XAPIC_CPUS) {
    throw new PcError("E_PC_AML", `the DSDT describes 1..${MAX_XAPIC_CPUS} CPUs, got ${describeValue(config.cpus)}`);
  }
  const parts = [debugAml(), pci0(), pciHotplugAml(), piix4Pci0Int()];
  if (config.hpet) parts.push(hpet());
  parts.push(
    gpeScope(),
    cpuHotplugAml(config.cpus),
    pci0Resources(config),
    sleepStates(),
    fwCfg(),
    pciBusAml(isaBridge()),
    pciHotplugGpe(),
  );
  return concat(parts);
}
