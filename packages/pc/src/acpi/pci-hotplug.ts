import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { PcError } from "../errors.js";
import { PciDevice } from "../pci/pci-device.js";

/** The block's place and length in QEMU 7.2 (ACPI_PCIHP_ADDR, ACPI_PCIHP_SIZE with AIDX). */
export const ACPI_PCIHP_ADDR = 0xae00n;
export const ACPI_PCIHP_SIZE = 0x18n;
/** The registers, as the DSDT's PCST/BNMR/PCEJ/AIDX fields name them. */
export const PCIHP_REG = {
  /** PCIU: slots with a device plugged since the last read (reading clears them). */
  up: 0x00,
  /** PCID: slots whose device the host asked to unplug. */
  down: 0x04,
  /** B0EJ: write a slot mask to eject the lowest slot's device; reads 0 (no features). */
  eject: 0x08,
  /** PCRM: slots whose device may be unplugged. */
  removable: 0x0c,
  /** BNUM: which bus the other registers speak of (its BSEL). */
  select: 0x10,
  /** AIDX: write a slot mask, then read that slot's acpi-index once. */
  acpiIndex: 0x14,
} as const;
/** GPE0 status bit 1: what a plug or unplug request raises (QEMU's ACPI_PCI_HOTPLUG_STATUS). */
export const ACPI_PCI_HOTPLUG_STATUS = 0x2;
/** BSEL values the block accepts (ACPI_PCIHP_MAX_HOTPLUG_BUS). */
const MAX_HOTPLUG_BUS = 256;
/** acpi_set_pci_info gives the root bus BSEL 0; this board has no other bus. */
const ROOT_BSEL = 0;
const SLOTS = 32;
/** The largest acpi-index (systemd's limit, which QEMU enforces: ONBOARD_INDEX_MAX). */
const ACPI_INDEX_MAX = 16 * 1024 - 1;

/** The bus the block plugs into and ejects from: bus 0's functions (the board's PciHost). */
export interface PciHotplugBus {
  readonly functions: readonly PciDevice[];
  attach(fn: PciDevice): void;
  detach(fn: PciDevice): void;
}

const slotOf = (fn: PciDevice) => fn.identity.devfn >> 3;
const hotpluggable = (fn: PciDevice) => fn.identity.hotpluggable !== false;
/** ctz32: the lowest set bit's index, 32 for 0. */
const lowestSlot = (mask: number) => (mask === 0 ? SLOTS : 31 - Math.clz32(mask & -mask));

/**
 * QEMU 7.2's ACPI PCI hot-plug block on PIIX4 (hw/acpi/pcihp.c, with bridge support on, as
 * pc-i440fx-7.2 has it): per BSEL the slots with pending plugs (up) and unplug requests (down)
 * and the removable slots, 32-bit registers only. A plug or unplug request sets its bit and
 * raises GPE0 bit 1; the guest's _EJ0 writes B0EJ, which removes the slot's hot-pluggable
 * functions (their BARs leave the I/O space) and clears the slot's pending bits.
 */
export class AcpiPciHotplug {
  readonly io: MemoryRegion;
  readonly #bus: PciHotplugBus;
  readonly #sendEvent: (status: number) => void;
  readonly #up = new Uint32Array(MAX_HOTPLUG_BUS);
  readonly #down = new Uint32Array(MAX_HOTPLUG_BUS);
  readonly #removable = new Uint32Array(MAX_HOTPLUG_BUS);
  /** BNUM as the guest wrote it, a signed 32-bit value (QEMU's int hotplug_select). */
  #select = 0;
  #acpiIndex = 0;

  constructor(host: MemorySystem, bus: PciHotplugBus, sendEvent: (status: number) => void) {
    this.#bus = bus;
    this.#sendEvent = sendEvent;
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "acpi-pci-hotplug",
      size: ACPI_PCIHP_SIZE,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 4, maxAccessSize: 4 },
        read: (offset) => BigInt(this.#read(Number(offset)) >>> 0),
        write: (offset, value) => this.#write(Number(offset), Number(value & 0xffff_ffffn)),
      },
    });
    this.reset();
  }

  /** The pending plugs of `bsel` (0, the root bus, unless told), without the read that clears them. */
  pendingUp(bsel = ROOT_BSEL): number {
    return this.#up[bsel]! >>> 0;
  }

  /** The pending unplug requests of `bsel`. */
  pendingDown(bsel = ROOT_BSEL): number {
    return this.#down[bsel]! >>> 0;
  }

  /**
   * acpi_pcihp_reset: unplugs still pending are carried out, then every bus's removable slots are
   * all but those holding a function that cannot be unplugged.
   */
  reset(): void {
    while (this.#down[ROOT_BSEL] !== 0) this.#ejectSlot(ROOT_BSEL, this.#down[ROOT_BSEL]!);
    this.#removable.fill(0xffff_ffff);
    let root = 0xffff_ffff;
    for (const fn of this.#bus.functions) if (!hotpluggable(fn)) root &= ~(1 << slotOf(fn));
    this.#removable[ROOT_BSEL] = root;
  }

  /**
   * device_add of a PCI function while the machine runs (qdev realize, then acpi_pcihp_device_plug_cb):
   * it joins bus 0 at its devfn, its slot's up bit is set and GPE0 bit 1 raised.
   */
  plug(fn: PciDevice): void {
    if (!(fn instanceof PciDevice)) throw new PcError("E_PC_HOTPLUG", "plug: the device must be a PciDevice");
    const { devfn, name } = fn.identity;
    if (!hotpluggable(fn)) throw new PcError("E_PC_HOTPLUG", `plug: ${name} cannot be hot-plugged`);
    const slot = devfn >> 3;
    // acpi_pcihp_device_pre_plug_cb: an acpi-index is at most ONBOARD_INDEX_MAX and unique among present functions.
    const acpiIndex = fn.identity.acpiIndex ?? 0;
    if (!Number.isInteger(acpiIndex) || acpiIndex < 0 || acpiIndex > ACPI_INDEX_MAX) {
      throw new PcError("E_PC_HOTPLUG", `plug: acpi-index should be less or equal to ${ACPI_INDEX_MAX}`);
    }
    if (acpiIndex !== 0 && this.#bus.functions.some((other) => other.identity.acpiIndex === acpiIndex)) {
      throw new PcError("E_PC_HOTPLUG", `plug: a PCI device with acpi-index = ${acpiIndex} already exists`);
    }
    for (const other of this.#bus.functions) {
      if (other === fn) throw new PcError("E_PC_HOTPLUG", `plug: ${name} is already on bus 0`);
      if (other.identity.devfn === devfn) {
        throw new PcError(
          "E_PC_HOTPLUG",
          `plug: PCI slot ${slot} function ${devfn & 7} is in use by ${other.identity.name}, not available for ${name}`,
        );
      }
      if (other.identity.devfn === devfn - (devfn & 7) && devfn !== other.identity.devfn) {
        throw new PcError(
          "E_PC_HOTPLUG",
          `plug: PCI slot ${slot} function 0 is occupied by ${other.identity.name}; a new function ${name} would not be seen`,
        );
      }
    }
    this.#bus.attach(fn);
    this.#up[ROOT_BSEL] = (this.#up[ROOT_BSEL]! | (1 << slot)) >>> 0;
    this.#sendEvent(ACPI_PCI_HOTPLUG_STATUS);
  }

  /**
   * device_del (acpi_pcihp_device_unplug_request_cb): the slot's down bit is set and GPE0 bit 1
   * raised; the function stays until the guest ejects the slot.
   */
  unplugRequest(fn: PciDevice): void {
    if (!(fn instanceof PciDevice) || !this.#bus.functions.includes(fn)) {
      throw new PcError("E_PC_HOTPLUG", "unplug: the device is not on bus 0");
    }
    if (!hotpluggable(fn)) {
      throw new PcError("E_PC_HOTPLUG", `unplug: ${fn.identity.name} does not support hot-unplug`);
    }
    this.#down[ROOT_BSEL] = (this.#down[ROOT_BSEL]! | (1 << slotOf(fn))) >>> 0;
    this.#sendEvent(ACPI_PCI_HOTPLUG_STATUS);
  }

  #bsel(): number | null {
    return this.#select >= 0 && this.#select < MAX_HOTPLUG_BUS ? this.#select : null;
  }

  /** pci_read: every register reads 0 while BNUM names no valid BSEL. */
  #read(offset: number): number {
    const bsel = this.#bsel();
    if (bsel === null) return 0;
    switch (offset) {
      case PCIHP_REG.up: {
        const up = this.#up[bsel]!;
        this.#up[bsel] = 0;
        return up;
      }
      case PCIHP_REG.down:
        return this.#down[bsel]!;
      case PCIHP_REG.removable:
        return this.#removable[bsel]!;
      case PCIHP_REG.select:
        return this.#select;
      case PCIHP_REG.acpiIndex: {
        const index = this.#acpiIndex;
        this.#acpiIndex = 0;
        return index;
      }
      default:
        return 0;
    }
  }

  /** pci_write: any write forgets a fetched acpi-index. */
  #write(offset: number, value: number): void {
    this.#acpiIndex = 0;
    switch (offset) {
      case PCIHP_REG.acpiIndex: {
        const fn = this.#slotFunction(lowestSlot(value));
        if (fn !== undefined) this.#acpiIndex = fn.identity.acpiIndex ?? 0;
        return;
      }
      case PCIHP_REG.eject:
        if (this.#select < MAX_HOTPLUG_BUS) this.#ejectSlot(this.#select, value);
        return;
      case PCIHP_REG.select:
        this.#select = value | 0;
        return;
      default:
    }
  }

  /** The function QEMU finds first in the selected bus's slot: the latest added (children are kept newest first). */
  #slotFunction(slot: number): PciDevice | undefined {
    if (this.#select !== ROOT_BSEL || slot >= SLOTS) return undefined;
    const fns = this.#bus.functions;
    for (let i = fns.length - 1; i >= 0; i--) if (slotOf(fns[i]!) === slot) return fns[i];
    return undefined;
  }

  /**
   * acpi_pcihp_eject_slot: the lowest slot of the mask; on a bus that exists its pending bits clear and
   * each hot-pluggable function in it is unrealized and leaves the bus.
   */
  #ejectSlot(bsel: number, mask: number): void {
    const slot = lowestSlot(mask);
    if (bsel !== ROOT_BSEL || slot >= SLOTS) return;
    const bit = 1 << slot;
    this.#down[bsel] = this.#down[bsel]! & ~bit;
    this.#up[bsel] = this.#up[bsel]! & ~bit;
    for (const fn of [...this.#bus.functions]) {
      if (slotOf(fn) !== slot || !hotpluggable(fn)) continue;
      fn.unrealize();
      this.#bus.detach(fn);
    }
  }
}
