import { describeValue, leBytes, MEMTX_OK, MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import { PcError } from "../errors.js";

/** fw_cfg selector keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h). */
export const FW_CFG = {
  SIGNATURE: 0x00,
  ID: 0x01,
  UUID: 0x02,
  RAM_SIZE: 0x03,
  NOGRAPHIC: 0x04,
  NB_CPUS: 0x05,
  NUMA: 0x0d,
  BOOT_MENU: 0x0e,
  MAX_CPUS: 0x0f,
  FILE_DIR: 0x19,
  FILE_FIRST: 0x20,
  ARCH_LOCAL: 0x8000,
  IRQ0_OVERRIDE: 0x8002,
  E820_TABLE: 0x8003,
} as const;
export const FW_CFG_IO_BASE = 0x510n;
export const FW_CFG_DMA_IO_BASE = 0x514n;
/** ID bits: the traditional port interface and the DMA interface. */
const FW_CFG_VERSION = 0x01;
const FW_CFG_VERSION_DMA = 0x02;
/** What the DMA register reads: "QEMU CFG", big-endian. */
const FW_CFG_DMA_SIGNATURE = 0x51454d5520434647n;
const FW_CFG_WRITE_CHANNEL = 0x4000;
const FW_CFG_ENTRY_MASK = 0x3fff;
const FW_CFG_MAX_FILE_PATH = 56;
const FW_CFG_FILE_SLOTS = 0x20;
/** FWCfgDmaAccess.control bits. */
const DMA_CTL_ERROR = 0x01;
const DMA_CTL_READ = 0x02;
const DMA_CTL_SKIP = 0x04;
const DMA_CTL_SELECT = 0x08;
const DMA_CTL_WRITE = 0x10;

/**
 * QEMU's fw_cfg device on port I/O (hw/nvram/fw_cfg.c): a selector at 0x510 (16-bit writes),
 * the data byte at 0x511, and the DMA address register at 0x514 (big-endian; writing its
 * low half starts a transfer described by an FWCfgDmaAccess in guest memory). Items are
 * byte strings under a key; files get keys from 0x20 on, listed in the directory at 0x19.
 */
export class FwCfg {
  readonly #items = new Map<number, Uint8Array>();
  readonly #files: { name: string; key: number; data: Uint8Array; onSelect: (() => void) | undefined }[] = [];
  #cur: number | null = null;
  #offset = 0;
  #dmaAddr = 0n;
  #dmaSpace: AddressSpace | null = null;
  readonly io: MemoryRegion;
  readonly dmaIo: MemoryRegion;

  constructor(host: MemorySystem) {
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "fwcfg",
      size: 2n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 2 },
        read: (_offset, size) => {
          let value = 0n;
          for (let i = 0; i < size; i++) value |= BigInt(this.#readByte()) << BigInt(8 * i);
          return value;
        },
        write: (_offset, value, size) => {
          if (size === 2) this.select(Number(value));
        },
      },
    });
    this.dmaIo = new MemoryRegion(host, {
      kind: "io",
      name: "fwcfg.dma",
      size: 8n,
      ops: {
        endianness: "big",
        valid: { minAccessSize: 1, maxAccessSize: 8 },
        read: (offset, size) =>
          (FW_CFG_DMA_SIGNATURE >> BigInt(8 * (8 - Number(offset) - size))) & ((1n << BigInt(8 * size)) - 1n),
        write: (offset, value, size) => this.#dmaWrite(offset, value, size),
      },
    });
    this.addBytes(FW_CFG.SIGNATURE, new TextEncoder().encode("QEMU"));
    this.addBytes(FW_CFG.ID, leBytes(BigInt(FW_CFG_VERSION | FW_CFG_VERSION_DMA), 4));
  }

  /** Where DMA transfers read and write: the machine's `memory` space. */
  setDmaSpace(space: AddressSpace): void {
    this.#dmaSpace = space;
  }

  addBytes(key: number, data: Uint8Array): void {
    if (!Number.isInteger(key) || key < 0 || key >= FW_CFG.FILE_FIRST + FW_CFG_FILE_SLOTS + FW_CFG.ARCH_LOCAL) {
      throw new PcError(
        "E_PC_FW_CFG",
        `fw_cfg key must be in 0..0x${(0x8040).toString(16)}, got ${describeValue(key)}`,
      );
    }
    this.#items.set(key, data);
  }

  addI16(key: number, value: number): void {
    this.addBytes(key, leBytes(BigInt(value), 2));
  }

  addI32(key: number, value: number): void {
    this.addBytes(key, leBytes(BigInt(value), 4));
  }

  addI64(key: number, value: bigint): void {
    this.addBytes(key, leBytes(BigInt(value), 8));
  }

  /**
   * fw_cfg_add_file_callback: files are listed (and keyed) in name order, as firmware finds
   * them by name; `onSelect` runs each time the file is selected, before any byte is read, and
   * may rewrite `data` in place (its size is fixed by the directory).
   */
  addFile(name: string, data: Uint8Array, onSelect?: () => void): void {
    const bytes = new TextEncoder().encode(name);
    if (bytes.length === 0 || bytes.length >= FW_CFG_MAX_FILE_PATH) {
      throw new PcError("E_PC_FW_CFG", `fw_cfg file name must be 1..55 bytes, got "${name}"`);
    }
    if (this.#files.some((f) => f.name === name)) throw new PcError("E_PC_FW_CFG", `fw_cfg file "${name}" exists`);
    if (this.#files.length >= FW_CFG_FILE_SLOTS) throw new PcError("E_PC_FW_CFG", "fw_cfg has no free file slot");
    this.#files.push({ name, key: 0, data, onSelect });
    this.#files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#files.forEach((f, i) => {
      f.key = FW_CFG.FILE_FIRST + i;
    });
    this.#rebuildFiles();
  }

  /** The contents of a file, or undefined. */
  file(name: string): Uint8Array | undefined {
    return this.#files.find((f) => f.name === name)?.data;
  }

  /** fw_cfg_select: an unknown key selects nothing (reads return 0). */
  select(key: number): void {
    this.#offset = 0;
    const entry = key & (FW_CFG_ENTRY_MASK | FW_CFG.ARCH_LOCAL) & ~FW_CFG_WRITE_CHANNEL;
    this.#cur = this.#items.has(entry) ? entry : null;
    if (this.#cur !== null && this.#cur >= FW_CFG.FILE_FIRST && this.#cur < FW_CFG.FILE_FIRST + FW_CFG_FILE_SLOTS) {
      this.#files[this.#cur - FW_CFG.FILE_FIRST]?.onSelect?.();
    }
  }

  #current(): Uint8Array | undefined {
    return this.#cur === null ? undefined : this.#items.get(this.#cur);
  }

  #readByte(): number {
    const data = this.#current();
    if (data === undefined || this.#offset >= data.length) return 0;
    return data[this.#offset++]!;
  }

  #rebuildFiles(): void {
    for (let key = FW_CFG.FILE_FIRST; key < FW_CFG.FILE_FIRST + FW_CFG_FILE_SLOTS; key++) this.#items.delete(key);
    const dir = new Uint8Array(4 + 64 * this.#files.length);
    const view = new DataView(dir.buffer);
    view.setUint32(0, this.#files.length);
    this.#files.forEach((f, i) => {
      const at = 4 + 64 * i;
      view.setUint32(at, f.data.length);
      view.setUint16(at + 4, f.key);
      dir.set(new TextEncoder().encode(f.name), at + 8);
      this.#items.set(f.key, f.data);
    });
    this.#items.set(FW_CFG.FILE_DIR, dir);
  }

  #dmaWrite(offset: bigint, value: bigint, size: number): void {
    if (size === 4 && offset === 0n) {
      this.#dmaAddr = (value << 32n) | (this.#dmaAddr & 0xffff_ffffn);
    } else if ((size === 4 && offset === 4n) || (size === 8 && offset === 0n)) {
      this.#dmaAddr = size === 8 ? value : (this.#dmaAddr & ~0xffff_ffffn) | value;
      const addr = this.#dmaAddr;
      this.#dmaAddr = 0n;
      this.#dmaTransfer(addr);
    }
  }

  /** fw_cfg_dma_transfer: one FWCfgDmaAccess (control, length, address; big-endian). */
  #dmaTransfer(descAddr: bigint): void {
    const space = this.#dmaSpace;
    if (space === null) return;
    const desc = new Uint8Array(16);
    if (space.read(descAddr, desc) !== MEMTX_OK) {
      space.write(descAddr, be32(DMA_CTL_ERROR));
      return;
    }
    const view = new DataView(desc.buffer);
    let control = view.getUint32(0);
    const length = view.getUint32(4);
    const address = view.getBigUint64(8);
    if ((control & DMA_CTL_SELECT) !== 0) this.select(control >>> 16);
    let error = false;
    if ((control & DMA_CTL_READ) !== 0) {
      const out = new Uint8Array(length);
      const data = this.#current();
      if (data !== undefined && this.#offset < data.length) {
        const n = Math.min(length, data.length - this.#offset);
        out.set(data.subarray(this.#offset, this.#offset + n));
        this.#offset += n;
      }
      error = space.write(address, out) !== MEMTX_OK;
    } else if ((control & DMA_CTL_SKIP) !== 0) {
      this.#offset += length;
    } else if ((control & DMA_CTL_WRITE) !== 0) {
      // No item of this board takes writes from the guest.
      error = true;
    }
    control = error ? DMA_CTL_ERROR : 0;
    space.write(descAddr, be32(control));
  }
}

function be32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}
