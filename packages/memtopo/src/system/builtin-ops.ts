import { loadLe, type MemoryRegion, type MemoryRegionOps, storeLe } from "@memtopo/region-tree";

/**
 * QEMU's `unassigned_mem_ops`: every access is refused by `valid.accepts`, so reads give 0
 * and writes are dropped, both with MEMTX_DECODE_ERROR. Gaps of a view, RAM and ROM
 * regions (whose writes are not direct) and I/O regions created with null ops use them.
 */
export const UNASSIGNED_MEM_OPS: MemoryRegionOps = Object.freeze({
  read: () => 0n,
  write: () => {},
  endianness: "native",
  valid: Object.freeze({ accepts: () => false }),
});

/**
 * QEMU's `unassigned_io_ops`, the ops of the standard `io` root region: reads return all
 * ones, writes are dropped, and both succeed. Pass them when creating a PC-style I/O root
 * so that unclaimed ports behave as in QEMU (a null-ops I/O region is `unassigned_mem_ops`).
 */
export const UNASSIGNED_IO_OPS: MemoryRegionOps = Object.freeze({
  read: () => 0xffff_ffff_ffff_ffffn,
  write: () => {},
  endianness: "native",
});

const ramDeviceOps = new WeakMap<MemoryRegion, MemoryRegionOps>();

/**
 * QEMU's `ram_device_mem_ops`: host byte order, 1..8 bytes, unaligned allowed, reading and
 * writing the RAM block (a RAM device is RAM that is never accessed directly).
 */
export function ramDeviceMemOps(mr: MemoryRegion): MemoryRegionOps {
  let ops = ramDeviceOps.get(mr);
  if (ops === undefined) {
    const block = mr.ramBlock!;
    ops = Object.freeze({
      read(offset: bigint, size: number): bigint {
        return loadLe(block.bytesAt(offset, size));
      },
      write(offset: bigint, value: bigint, size: number): void {
        const bytes = block.bytesAt(offset, size);
        storeLe(bytes, 0, bytes.length, value);
      },
      endianness: "host",
      valid: Object.freeze({ minAccessSize: 1, maxAccessSize: 8, unaligned: true }),
      impl: Object.freeze({ minAccessSize: 1, maxAccessSize: 8, unaligned: true }),
    } satisfies MemoryRegionOps);
    ramDeviceOps.set(mr, ops);
  }
  return ops;
}

/** The ops an access to `mr` (null: a gap of the view) is dispatched to. */
export function opsOf(mr: MemoryRegion | null): MemoryRegionOps {
  if (mr === null) return UNASSIGNED_MEM_OPS;
  if (mr.ramDevice) return ramDeviceMemOps(mr);
  return mr.ops ?? UNASSIGNED_MEM_OPS;
}
