import { KvmError } from "@memtopo/kvm";

// Checks shared by the vCPU state encoders: every field of a caller's object is validated
// before a byte is written, and a bad one names its path ("fpu.xmm[3]").

const U64_MAX = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function bad(op: string, path: string, what: string): never {
  throw new KvmError("EINVAL", op, `${path} must be ${what}`);
}

export function object<T>(op: string, path: string, value: T): T {
  if (typeof value !== "object" || value === null) bad(op, path, "an object");
  return value;
}

export function uint(op: string, path: string, value: unknown, bits: 8 | 16 | 32): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    bad(op, path, `an integer in [0, 2^${bits})`);
  }
  return value;
}

export function u64(op: string, path: string, value: unknown): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) bad(op, path, "a bigint in [0, 2^64)");
  return value;
}

export function u128(op: string, path: string, value: unknown): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U128_MAX) bad(op, path, "a bigint in [0, 2^128)");
  return value;
}

export function bool(op: string, path: string, value: unknown): boolean {
  if (typeof value !== "boolean") bad(op, path, "a boolean");
  return value;
}

/** An array of exactly `length` items (a plain array: no typed-array or array-like stand-ins). */
export function fixedArray(op: string, path: string, value: unknown, length: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length !== length) bad(op, path, `an array of ${length} items`);
  return value;
}

/** An array of at most `max` items. */
export function boundedArray(op: string, path: string, value: unknown, max: number): readonly unknown[] {
  if (!Array.isArray(value)) bad(op, path, "an array");
  if (value.length > max) throw new KvmError("E2BIG", op, `${path} has ${value.length} items, at most ${max}`);
  return value;
}

export function getU128(v: DataView, at: number): bigint {
  return v.getBigUint64(at, true) | (v.getBigUint64(at + 8, true) << 64n);
}

export function setU128(v: DataView, at: number, value: bigint): void {
  v.setBigUint64(at, value & U64_MAX, true);
  v.setBigUint64(at + 8, value >> 64n, true);
}

/** `count` unsigned little-endian 128-bit values, 16 bytes apart, from `at`. */
export function getU128s(v: DataView, at: number, count: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(getU128(v, at + 16 * i));
  return out;
}

export function setU128s(op: string, path: string, v: DataView, at: number, value: unknown, count: number): void {
  const items = fixedArray(op, path, value, count);
  for (let i = 0; i < count; i++) setU128(v, at + 16 * i, u128(op, `${path}[${i}]`, items[i]));
}

/** Raises the kernel's answer when it is not what the ABI promises. */
export function protocol(op: string, what: string): never {
  throw new KvmError("EPROTO", op, what);
}

export function expectLength(op: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) protocol(op, `the addon returned ${bytes.length} bytes, expected ${size}`);
}
