/**
 * Addresses and sizes are `bigint`. QEMU mixes Int128 (sizes, which reach 2^64
 * exactly) and wrapping 64-bit arithmetic (addresses, offsets); a JS `number`
 * is exact only below 2^53 and silently rounds above it, so a number-based model
 * would render the top of a 64-bit space wrongly. Hot paths that need speed
 * (FlatView lookup, dispatch) keep number-typed indexes beside the bigint truth.
 */
export const SIZE_2_64 = 1n << 64n;
export const UINT64_MAX = SIZE_2_64 - 1n;
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** Reduces a value modulo 2^64, as QEMU's hwaddr arithmetic does. */
export function wrap64(value: bigint): bigint {
  return BigInt.asUintN(64, value);
}

/** QEMU turns a constructor size of UINT64_MAX into exactly 2^64 (a region is never 2^64 - 1 bytes). */
export function regionSizeFromU64(size: bigint): bigint {
  return size === UINT64_MAX ? SIZE_2_64 : size;
}

export function isU64(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= UINT64_MAX;
}

/** `0x` and the significant hex digits, as QEMU's `0x%" PRIx64` and this project's messages print a value. */
export function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

/** Reverses the low `size` bytes of `value` (QEMU's `bswap16/32/64` by access size). */
export function bswap(value: bigint, size: number): bigint {
  let out = 0n;
  let v = value;
  for (let i = 0; i < size; i++) {
    out = (out << 8n) | (v & 0xffn);
    v >>= 8n;
  }
  return out;
}
