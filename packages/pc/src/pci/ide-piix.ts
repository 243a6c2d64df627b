import { MemoryRegion } from "@memtopo/region-tree";
import { devfn } from "./config.js";
import { type PciBusSpaces, PciDevice } from "./pci-device.js";

/** Legacy ATA programming interface: both channels at their ISA ports, bus-master capable. */
const PROG_IF_LEGACY_BUS_MASTER = 0x80;
const BMDMA_BAR = 4;
const BMDMA_SIZE = 16;

/** A channel with no drive on it: QEMU's IDE reads 0 from every register (so no BSY, no device). */
const EMPTY_CHANNEL_OPS = { endianness: "little" as const, read: () => 0n, write: () => {} };

/**
 * The PIIX3 IDE function (01.1, 8086:7010) as QEMU's hw/ide/piix.c shows it with no disks:
 * configuration space in legacy mode, the two channels' command and control blocks at
 * 0x1f0/0x3f6 and 0x170/0x376 (no drive: every register reads 0, so a probe finds
 * nothing), and the bus-master DMA registers behind BAR4 (they hold what is written; no drive, no transfer).
 */
export class PiixIde extends PciDevice {
  /** The ISA-port regions, in the order QEMU registers them: primary then secondary. */
  readonly ports: readonly { readonly base: bigint; readonly region: MemoryRegion }[];
  readonly bmdma: MemoryRegion;

  constructor(spaces: PciBusSpaces) {
    super(spaces, {
      name: "piix3-ide",
      devfn: devfn(1, 1),
      // The chipset stays: QEMU's class sets hotpluggable = false.
      hotpluggable: false,
      vendorId: 0x8086,
      deviceId: 0x7010,
      revision: 0x00,
      classId: 0x0101,
    });
    this.config[0x09] = PROG_IF_LEGACY_BUS_MASTER;
    const host = spaces.system;
    const io = (name: string, size: bigint) =>
      new MemoryRegion(host, { kind: "io", name, size, ops: EMPTY_CHANNEL_OPS });
    this.ports = [
      { base: 0x1f0n, region: io("ide", 8n) },
      { base: 0x3f6n, region: io("ide", 1n) },
      { base: 0x170n, region: io("ide", 8n) },
      { base: 0x376n, region: io("ide", 1n) },
    ];
    this.bmdma = new MemoryRegion(host, { kind: "container", name: "piix-bmdma-container", size: 16n });
    for (const channel of [0n, 8n]) {
      const bm = new BmdmaChannel();
      this.bmdma.addSubregion(channel, bm.regs(host));
      this.bmdma.addSubregion(channel + 4n, bm.prd(host));
    }
    this.registerIoBar(BMDMA_BAR, BMDMA_SIZE, this.bmdma);
  }
}

/** Bus-master status bits: the two drive-DMA-capable bits are plain storage, error and interrupt clear on 1. */
const BM_STATUS_RW = 0x60;
const BM_STATUS_W1C = 0x06;
const BM_CMD_MASK = 0x09;

/**
 * One channel's bus-master IDE registers (QEMU's piix-bmdma and bmdma windows): command
 * (start bit and direction), status and the PRD table address. With no drive a started
 * transfer has nothing to move, so the registers only hold what firmware writes.
 */
class BmdmaChannel {
  cmd = 0;
  status = 0;
  prdAddr = 0;

  regs(host: PciBusSpaces["system"]): MemoryRegion {
    return new MemoryRegion(host, {
      kind: "io",
      name: "piix-bmdma",
      size: 4n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        impl: { minAccessSize: 1, maxAccessSize: 1 },
        read: (offset) => BigInt(offset === 0n ? this.cmd : offset === 2n ? this.status : 0),
        write: (offset, value) => {
          const v = Number(value) & 0xff;
          if (offset === 0n) this.cmd = v & BM_CMD_MASK;
          else if (offset === 2n)
            this.status = (this.status & ~BM_STATUS_RW & ~(v & BM_STATUS_W1C)) | (v & BM_STATUS_RW);
        },
      },
    });
  }

  prd(host: PciBusSpaces["system"]): MemoryRegion {
    return new MemoryRegion(host, {
      kind: "io",
      name: "bmdma",
      size: 4n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 4 },
        // A narrower access reads or replaces just its bytes of the address (bits 0-1 stay 0).
        read: (offset, size) => (BigInt(this.prdAddr >>> 0) >> (8n * offset)) & ((1n << BigInt(8 * size)) - 1n),
        write: (offset, value, size) => {
          const shift = 8n * offset;
          const mask = ((1n << BigInt(8 * size)) - 1n) << shift;
          const addr = (BigInt(this.prdAddr >>> 0) & ~mask) | ((value << shift) & mask);
          this.prdAddr = Number(addr & 0xffff_fffcn);
        },
      },
    });
  }
}
