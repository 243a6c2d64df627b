import { MemoryRegion, type MemoryRegionOps } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { PCI_CONFIG_SPACE_SIZE } from "./config.js";
import type { PciDevice } from "./pci-device.js";

const CONFIG_ENABLE = 0x8000_0000;

/**
 * PCI configuration mechanism #1 (QEMU's hw/pci/pci_host.c): the address register at
 * 0xcf8 (only whole 32-bit writes load it) and the data window at 0xcfc, which reaches
 * bus 0's functions while the enable bit is set. A function nobody answers reads all ones.
 */
export class PciHost {
  configReg = 0;
  readonly #functions = new Map<number, PciDevice>();
  readonly confIdx: MemoryRegion;
  readonly confData: MemoryRegion;

  constructor(system: MemorySystem) {
    const idxOps: MemoryRegionOps = {
      endianness: "little",
      read: () => BigInt(this.configReg >>> 0),
      write: (offset, value, size) => {
        if (offset === 0n && size === 4) this.configReg = Number(value) >>> 0;
      },
    };
    const dataOps: MemoryRegionOps = {
      endianness: "little",
      read: (offset, size) => BigInt(this.#dataRead(Number(offset), size)),
      write: (offset, value, size) => this.#dataWrite(Number(offset), Number(value), size),
    };
    this.confIdx = new MemoryRegion(system, { kind: "io", name: "pci-conf-idx", size: 4n, ops: idxOps });
    this.confData = new MemoryRegion(system, { kind: "io", name: "pci-conf-data", size: 4n, ops: dataOps });
  }

  attach(fn: PciDevice): void {
    this.#functions.set(fn.identity.devfn, fn);
  }

  /** The function leaves bus 0 (an eject): configuration cycles to its devfn read all ones again. */
  detach(fn: PciDevice): void {
    if (this.#functions.get(fn.identity.devfn) === fn) this.#functions.delete(fn.identity.devfn);
  }

  get functions(): readonly PciDevice[] {
    return [...this.#functions.values()];
  }

  /** The function the address register selects on bus 0, and the byte offset in its space. */
  #target(offset: number): { fn: PciDevice | undefined; addr: number } {
    const reg = (this.configReg | (offset & 3)) >>> 0;
    const bus = (reg >>> 16) & 0xff;
    const fn = bus === 0 ? this.#functions.get((reg >>> 8) & 0xff) : undefined;
    return { fn, addr: reg & (PCI_CONFIG_SPACE_SIZE - 1) };
  }

  #dataRead(offset: number, size: number): number {
    const ones = size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    if ((this.configReg & CONFIG_ENABLE) === 0) return ones;
    const { fn, addr } = this.#target(offset);
    if (fn === undefined || addr + size > PCI_CONFIG_SPACE_SIZE) return ones;
    return fn.readConfig(addr, size);
  }

  #dataWrite(offset: number, value: number, size: number): void {
    if ((this.configReg & CONFIG_ENABLE) === 0) return;
    const { fn, addr } = this.#target(offset);
    if (fn === undefined || addr + size > PCI_CONFIG_SPACE_SIZE) return;
    fn.writeConfig(addr, value, size);
  }
}
