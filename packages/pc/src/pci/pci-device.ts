import { loadLeNumber, MemoryRegion, SIZE_2_64, storeLeNumber } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CACHE_LINE_SIZE,
  PCI_CLASS_DEVICE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_SERR,
  PCI_CONFIG_HEADER_SIZE,
  PCI_CONFIG_SPACE_SIZE,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MULTI_FUNCTION,
  PCI_INTERRUPT_LINE,
  PCI_REVISION_ID,
  PCI_STATUS,
  PCI_STATUS_W1C,
  PCI_SUBDEVICE_ID_QEMU,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
  PCI_VENDOR_ID,
  rangesOverlap,
} from "./config.js";

/** What identifies a PCI function: QEMU's PCIDeviceClass fields. */
export interface PciIdentity {
  /** The device's QEMU name; its bus-master address space is called so ("i440FX", "PIIX3"). */
  readonly name: string;
  readonly devfn: number;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision: number;
  /** Base class and subclass, e.g. 0x0600 for a host bridge. */
  readonly classId: number;
  readonly multifunction?: boolean;
  /**
   * QEMU's DeviceClass.hotpluggable (default true): whether the function may be plugged or unplugged
   * while the machine runs. The chipset's functions are not.
   */
  readonly hotpluggable?: boolean;
  /** QEMU's `acpi-index` property (default 0): what the DSDT's AIDX reports for the slot. */
  readonly acpiIndex?: number;
}

/** An I/O BAR: the region the device decodes, mapped into the I/O space when enabled. */
interface IoBar {
  readonly index: number;
  readonly size: number;
  readonly region: MemoryRegion;
  mapped: bigint | null;
}

/** Where a function's BARs and bus-master DMA go: the machine's spaces. */
export interface PciBusSpaces {
  readonly system: MemorySystem;
  /** The root of the address space a bus master's DMA reaches ("system"). */
  readonly dmaRoot: MemoryRegion;
  /** The `io` region I/O BARs are mapped into. */
  readonly io: MemoryRegion;
}

/**
 * One PCI function's configuration space, as QEMU's PCIDevice keeps it: the bytes, which
 * bits software may write (`wmask`: command, cache line, interrupt line, BARs, and the
 * whole device-specific part from 0x40) and which it clears by writing 1 (`w1cmask`,
 * status). A command write that sets or clears Bus Master enables the "bus master" alias
 * of the function's own address space; IO BARs map when Command.IO is set.
 */
export class PciDevice {
  readonly identity: PciIdentity;
  readonly config = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  readonly wmask = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  readonly w1cmask = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  /** The function's DMA view: "bus master container" holding the "bus master" alias. */
  readonly busMasterAs: AddressSpace;
  readonly busMasterEnable: MemoryRegion;
  readonly #spaces: PciBusSpaces;
  readonly #bars: IoBar[] = [];

  constructor(spaces: PciBusSpaces, identity: PciIdentity) {
    this.identity = identity;
    this.#spaces = spaces;
    const { system, dmaRoot } = spaces;
    this.#setWord(PCI_VENDOR_ID, identity.vendorId);
    this.#setWord(PCI_DEVICE_ID, identity.deviceId);
    this.config[PCI_REVISION_ID] = identity.revision;
    this.#setWord(PCI_CLASS_DEVICE, identity.classId);
    if (identity.multifunction === true) this.config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
    // QEMU's default subsystem for a type 0 function: Red Hat/Qumranet, "QEMU" (SeaBIOS checks it at 00.0).
    this.#setWord(PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBVENDOR_ID_REDHAT_QUMRANET);
    this.#setWord(PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_ID_QEMU);
    this.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
    const command =
      PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_SERR;
    this.wmask[PCI_COMMAND] = command & 0xff;
    this.wmask[PCI_COMMAND + 1] = command >> 8;
    this.w1cmask[PCI_STATUS] = PCI_STATUS_W1C & 0xff;
    this.w1cmask[PCI_STATUS + 1] = PCI_STATUS_W1C >> 8;
    this.wmask.fill(0xff, PCI_CONFIG_HEADER_SIZE);

    const container = new MemoryRegion(system, { kind: "container", name: "bus master container", size: SIZE_2_64 });
    this.busMasterAs = system.createAddressSpace(identity.name, container);
    this.busMasterEnable = new MemoryRegion(system, {
      kind: "alias",
      name: "bus master",
      target: dmaRoot,
      offset: 0n,
      size: dmaRoot.size,
    });
    system.begin();
    try {
      this.busMasterEnable.setEnabled(false);
      container.addSubregion(0n, this.busMasterEnable);
    } finally {
      system.commit();
    }
  }

  get progIf(): number {
    return this.config[PCI_CLASS_PROG]!;
  }

  /** pci_register_bar for an I/O BAR of `size` bytes (a power of two) decoding `region`. */
  registerIoBar(index: number, size: number, region: MemoryRegion): void {
    const at = PCI_BASE_ADDRESS_0 + 4 * index;
    this.#setLong(at, PCI_BASE_ADDRESS_SPACE_IO);
    const mask = ~(size - 1) >>> 0;
    storeLeNumber(this.wmask, at, 4, mask);
    this.#bars.push({ index, size, region, mapped: null });
  }

  /**
   * pci_do_device_reset, what the PCI bus does to each function after the function's own
   * reset: writable Command bits, Status' write-1-to-clear bits, the interrupt line and cache
   * line size cleared, BARs back to their type bits (unmapped). It does not touch the
   * bus-master alias: that follows only configuration writes.
   */
  busReset(): void {
    for (const at of [PCI_COMMAND, PCI_COMMAND + 1, PCI_STATUS, PCI_STATUS + 1]) {
      this.config[at] = this.config[at]! & ~(this.wmask[at]! | this.w1cmask[at]!);
    }
    this.config[PCI_INTERRUPT_LINE] = 0;
    this.config[PCI_CACHE_LINE_SIZE] = 0;
    for (const bar of this.#bars) this.#setLong(PCI_BASE_ADDRESS_0 + 4 * bar.index, PCI_BASE_ADDRESS_SPACE_IO);
    this.updateMappings();
  }

  /**
   * pci_qdev_unrealize, as an eject runs it: each mapped BAR leaves the I/O space (a commit each,
   * as pci_unregister_io_regions deletes them one by one), then do_pci_unregister_device drops the
   * bus-master alias and destroys the function's DMA address space.
   */
  unrealize(): void {
    const { system, io } = this.#spaces;
    for (const bar of this.#bars) {
      if (bar.mapped === null) continue;
      io.delSubregion(bar.region);
      bar.mapped = null;
    }
    const container = this.busMasterAs.root;
    if (container !== null && this.busMasterEnable.container === container) {
      container.delSubregion(this.busMasterEnable);
    }
    system.destroyAddressSpace(this.busMasterAs);
  }

  /** A configuration read of `len` (1, 2 or 4) bytes at `addr`, little-endian. */
  readConfig(addr: number, len: number): number {
    return loadLeNumber(this.config, addr, len);
  }

  /** pci_default_write_config, then the device's own reaction ({@link configWritten}). */
  writeConfig(addr: number, value: number, len: number): void {
    for (let i = 0; i < len; i++) {
      const byte = (value >>> (8 * i)) & 0xff;
      const at = addr + i;
      const wmask = this.wmask[at]!;
      this.config[at] = ((this.config[at]! & ~wmask) | (byte & wmask)) & ~(byte & this.w1cmask[at]!);
    }
    const commandWritten = addr <= PCI_COMMAND && PCI_COMMAND < addr + len;
    if (rangesOverlap(addr, len, PCI_BASE_ADDRESS_0, 24) || commandWritten) this.updateMappings();
    if (commandWritten) {
      this.busMasterEnable.setEnabled((this.readConfig(PCI_COMMAND, 2) & PCI_COMMAND_MASTER) !== 0);
    }
    this.configWritten(addr, len);
  }

  /** What the function does after a configuration write (PAM, SMRAM, PM base...): nothing here. */
  protected configWritten(_addr: number, _len: number): void {}

  /** pci_update_mappings for I/O BARs: unmapped without Command.IO, at 0, or past 64 KiB. */
  protected updateMappings(): void {
    const { system, io } = this.#spaces;
    const ioOn = (this.readConfig(PCI_COMMAND, 2) & PCI_COMMAND_IO) !== 0;
    system.begin();
    try {
      for (const bar of this.#bars) {
        const base = BigInt((this.readConfig(PCI_BASE_ADDRESS_0 + 4 * bar.index, 4) & ~(bar.size - 1)) >>> 0);
        const last = base + BigInt(bar.size) - 1n;
        const want = !ioOn || base === 0n || last >= 0xffff_ffffn ? null : base;
        if (want === bar.mapped) continue;
        if (bar.mapped !== null) io.delSubregion(bar.region);
        if (want !== null) io.addSubregionOverlap(want, bar.region, 1);
        bar.mapped = want;
      }
    } finally {
      system.commit();
    }
  }

  #setWord(at: number, value: number): void {
    storeLeNumber(this.config, at, 2, value);
  }

  #setLong(at: number, value: number): void {
    storeLeNumber(this.config, at, 4, value);
  }
}
