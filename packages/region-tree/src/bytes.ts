import { bigFromSafeInteger } from "./words.js";

/*
 * Guest data crosses every boundary (KVM exits, RAM devices, the mock kernel) as little-endian
 * bytes, x86's and the host's order, as QEMU's `ldn_le_p`/`stn_le_p` read and write them. Up to
 * 6 bytes the value is exact in a double, so those take no bigint until the end: every guest
 * exit goes through here.
 */

/** The `size` bytes of `data` from `pos` as a little-endian unsigned integer (`ldn_le_p`). */
export function loadLe(data: Uint8Array, pos = 0, size: number = data.length - pos): bigint {
  if (size <= 6) {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + data[pos + i]!;
    return bigFromSafeInteger(v);
  }
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[pos + i]!);
  return value;
}

/** Stores the low `size` bytes of `value` into `data` from `pos`, little-endian (`stn_le_p`). */
export function storeLe(data: Uint8Array, pos: number, size: number, value: bigint): void {
  if (size <= 6) {
    let v = Number(BigInt.asUintN(8 * size, value));
    for (let i = 0; i < size; i++) {
      data[pos + i] = v % 256;
      v = Math.floor(v / 256);
    }
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
