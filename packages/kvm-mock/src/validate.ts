import { describeValue, UINT64_MAX } from "@memtopo/region-tree";
import { MockKvmUsageError } from "./errors.js";

/** The argument checks every public entry runs before it touches state. */

export function u64(value: unknown, path: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value > UINT64_MAX) {
    throw new MockKvmUsageError(`expected a bigint in [0, 2^64), got ${describeValue(value)}`, path);
  }
  return value;
}

export function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new MockKvmUsageError(`expected an integer in [0, 2^32), got ${describeValue(value)}`, path);
  }
  return value;
}

export function integerIn(value: unknown, min: number, max: number, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new MockKvmUsageError(`expected an integer in [${min}, ${max}], got ${describeValue(value)}`, path);
  }
  return value;
}

export function oneOf<T extends number>(value: unknown, allowed: readonly T[], path: string): T {
  if (!allowed.includes(value as T)) {
    throw new MockKvmUsageError(`expected one of ${allowed.join(", ")}, got ${describeValue(value)}`, path);
  }
  return value as T;
}
