import { MemtopoError } from "./errors.js";
import { bigFromSafeInteger } from "./words.js";

/*
 * Guest data crosses every boundary (KVM exits, RAM devices, the mock kernel) as little-endian
 * bytes, x86's and the host's order, as QEMU's `ldn_le_p`/`stn_le_p` read and write them. Up to
 * 6 bytes the value is exact in a double, so those take no bigint until the end: every guest
 * exit goes through here.
 */

/** The `size` bytes of `data` from `pos` as a little-endian unsigned integer (`ldn_le_p`). */
export function loadLe(data: Uint8Array, pos = 0, size: number = data.length - pos): bigint {
  if (size <= 6) return bigFromSafeInteger(loadLeNumber(data, pos, size));
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[pos + i]!);
  return value;
}

/** Stores the low `size` bytes of `value` into `data` from `pos`, little-endian (`stn_le_p`). */
export function storeLe(data: Uint8Array, pos: number, size: number, value: bigint): void {
  if (size <= 6) {
    storeLeNumber(data, pos, size, Number(BigInt.asUintN(8 * size, value)));
    return;
  }
  for (let i = 0; i < size; i++) data[pos + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

/** The low `size` bytes of `value`, little-endian, in a new array. */
export function leBytes(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  storeLe(out, 0, size, value);
  return out;
}

/**
 * {@link loadLe} as a number, for at most 6 bytes (exact in a double): the mock's 32-bit CPU
 * and PCI configuration space work in numbers.
 */
export function loadLeNumber(data: Uint8Array, pos = 0, size: number = data.length - pos): number {
  if (size > 6) throw tooWide(size);
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + data[pos + i]!;
  return v;
}

/**
 * {@link storeLe} of a number, for at most 6 bytes: the low `size` bytes of the integer `value`;
 * a negative one is stored in two's complement, as a register holds it.
 */
export function storeLeNumber(data: Uint8Array, pos: number, size: number, value: number): void {
  if (size > 6) throw tooWide(size);
  let v = value;
  for (let i = 0; i < size; i++) {
    // `& 0xff` keeps the low byte of any safe integer, negative ones included; the division is exact.
    data[pos + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

function tooWide(size: number): MemtopoError {
  return new MemtopoError("E_INVALID_SIZE", `a number holds at most 6 little-endian bytes exactly, got ${size}`);
}
