/**
 * MemoryRegionOps: how an MMIO/PIO region (or a ROM device's write side) talks to
 * its device model. Field names follow QEMU's; the dispatch rules that use them
 * (valid vs impl sizes, splitting, byte order) live in the facade's access path.
 */

/** MemTxResult bits; results of the pieces of one access are OR-ed. */
export const MEMTX_OK = 0;
export const MEMTX_ERROR = 1;
export const MEMTX_DECODE_ERROR = 2;
export const MEMTX_ACCESS_ERROR = 4;
export type MemTxResult = number;

/** MemTxAttrs, the subset that reaches devices. */
export interface MemTxAttrs {
  /** The access comes from a CPU or device that requires real memory (QEMU's `attrs.memory`). */
  readonly memory?: boolean;
  readonly secure?: boolean;
  readonly user?: boolean;
  readonly requesterId?: number;
}

/** `DEVICE_NATIVE_ENDIAN` is the target's order, `DEVICE_HOST_ENDIAN` the host's. */
export type DeviceEndianness = "little" | "big" | "native" | "host";

/** Sizes are 0 (the default), 1, 2, 4 or 8, minimum at most maximum: a region refuses other ops. */
export interface AccessConstraints {
  /** 0 means 1 for `impl` and "no check" for `valid`. */
  readonly minAccessSize?: number;
  /** 0 means 4 (for `valid`: and no size check). */
  readonly maxAccessSize?: number;
  readonly unaligned?: boolean;
}

export interface ValidConstraints extends AccessConstraints {
  /** Returning false makes the access invalid (MEMTX_DECODE_ERROR). */
  accepts?(offset: bigint, size: number, isWrite: boolean, attrs: MemTxAttrs): boolean;
}

export interface MemoryRegionOps {
  read?(offset: bigint, size: number): bigint;
  write?(offset: bigint, value: bigint, size: number): void;
  readWithAttrs?(offset: bigint, size: number, attrs: MemTxAttrs): { value: bigint; result: MemTxResult };
  writeWithAttrs?(offset: bigint, value: bigint, size: number, attrs: MemTxAttrs): MemTxResult;
  readonly endianness?: DeviceEndianness;
  readonly valid?: ValidConstraints;
  readonly impl?: AccessConstraints;
}

/**
 * Ops are QEMU's `const MemoryRegionOps`: frozen, with their `valid` and `impl`, when a region is
 * created with them. The access path decides what it can from them once (sizes, byte order,
 * callbacks), so a later change could not reach it: it fails instead (a TypeError in strict code).
 */
export function freezeOps(ops: MemoryRegionOps): void {
  if (ops.valid !== undefined && ops.valid !== null) Object.freeze(ops.valid);
  if (ops.impl !== undefined && ops.impl !== null) Object.freeze(ops.impl);
  Object.freeze(ops);
}
