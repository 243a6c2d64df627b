import type { MemoryRegionOps } from "@memtopo/region-tree";

/** Register offsets of the demo MMIO device (one 4 KiB BAR). */
export const DEMO_DEV_ID = 0x0n;
export const DEMO_DEV_SCRATCH = 0x4n;
export const DEMO_DEV_DOORBELL = 0x10n;
/** What the ID register reads: the bytes "MTPO". */
export const DEMO_DEV_ID_VALUE = 0x4f50544dn;

/** What a device saw, for the demo to print. */
export type DeviceAccess = {
  readonly device: string;
  readonly kind: "read" | "write";
  readonly offset: bigint;
  readonly size: number;
  readonly value: bigint;
};

/**
 * The demo's MMIO device: an ID register, a scratch register and a doorbell. The doorbell
 * is what the ioeventfd watches: under KVM a guest write to it is absorbed by the kernel
 * and never reaches `write` here; only a write the kernel did not match arrives.
 */
export class DemoMmioDevice {
  scratch = 0n;
  /** Doorbell writes that reached the device model (not absorbed by an ioeventfd). */
  doorbellWrites = 0;
  readonly accesses: DeviceAccess[] = [];

  readonly ops: MemoryRegionOps = {
    endianness: "little",
    valid: { minAccessSize: 1, maxAccessSize: 4 },
    impl: { minAccessSize: 4, maxAccessSize: 4 },
    read: (offset, size) => {
      const value = offset === DEMO_DEV_ID ? DEMO_DEV_ID_VALUE : offset === DEMO_DEV_SCRATCH ? this.scratch : 0n;
      this.accesses.push({ device: "demo-mmio", kind: "read", offset, size, value });
      return value;
    },
    write: (offset, value, size) => {
      this.accesses.push({ device: "demo-mmio", kind: "write", offset, size, value });
      if (offset === DEMO_DEV_SCRATCH) this.scratch = value;
      if (offset === DEMO_DEV_DOORBELL) this.doorbellWrites++;
    },
  };
}

/** UART register offsets (a 16550's transmit holding and line status registers). */
export const UART_THR = 0n;
export const UART_LSR = 5n;
const LSR_THR_EMPTY = 0x20n;

/** The demo's I/O port device: a write-only UART at 0x3f8 that collects what the guest sends. */
export class DemoUart {
  text = "";
  readonly accesses: DeviceAccess[] = [];

  readonly ops: MemoryRegionOps = {
    endianness: "little",
    valid: { minAccessSize: 1, maxAccessSize: 1 },
    read: (offset, size) => {
      const value = offset === UART_LSR ? LSR_THR_EMPTY | 0x40n : 0n;
      this.accesses.push({ device: "demo-uart", kind: "read", offset, size, value });
      return value;
    },
    write: (offset, value, size) => {
      this.accesses.push({ device: "demo-uart", kind: "write", offset, size, value });
      if (offset === UART_THR) this.text += String.fromCharCode(Number(value & 0xffn));
    },
  };
}

/** Port 0x80: firmware writes a progress ("POST") code after each step. */
export class PostCodePort {
  readonly codes: number[] = [];

  readonly ops: MemoryRegionOps = {
    endianness: "little",
    read: () => 0xffn,
    write: (_offset, value) => {
      this.codes.push(Number(value & 0xffn));
    },
  };
}
