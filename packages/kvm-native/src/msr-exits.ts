import { KvmError, type MsrExitReason } from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import type { NativeLayout } from "./binding.js";

/** One range of a KVM_X86_SET_MSR_FILTER: `bitmap` bit i (LSB first) allows MSR `base + i`. */
export interface MsrFilterRange {
  /** The operations the range's bitmap decides (at least one). */
  readonly read: boolean;
  readonly write: boolean;
  readonly base: number;
  readonly nmsrs: number;
  /** At least (nmsrs + 7) / 8 bytes; 1 allows the access, 0 denies it (a "filter" exit, or #GP). */
  readonly bitmap: Uint8Array;
}

export interface MsrFilter {
  /** What happens to MSRs no range covers: allowed (the kernel's default) or denied. */
  readonly defaultDeny: boolean;
  /** At most 16. An empty list with defaultDeny false removes the filter. */
  readonly ranges: readonly MsrFilterRange[];
}

const MSR_FILTER_READ = 1;
const MSR_FILTER_WRITE = 2;
const MAX_RANGES = 16;

function bad(detail: string): never {
  throw new KvmError("EINVAL", "KVM_X86_SET_MSR_FILTER", detail);
}

function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    bad(`${path} must be an integer in [0, 2^32)`);
  }
  return value;
}

/** The KVM_MSR_EXIT_REASON_* mask of `reasons`. */
export function msrExitMask(layout: NativeLayout, reasons: readonly MsrExitReason[]): number {
  if (!Array.isArray(reasons)) {
    throw new KvmError("EINVAL", "KVM_ENABLE_CAP", 'reasons must be an array of "invalid", "unknown", "filter"');
  }
  const bits: Record<MsrExitReason, number> = {
    invalid: layout.exits.MSR_EXIT_REASON_INVAL,
    unknown: layout.exits.MSR_EXIT_REASON_UNKNOWN,
    filter: layout.exits.MSR_EXIT_REASON_FILTER,
  };
  let mask = 0;
  for (const reason of reasons as readonly unknown[]) {
    const bit = typeof reason === "string" && Object.hasOwn(bits, reason) ? bits[reason as MsrExitReason] : undefined;
    if (bit === undefined) {
      throw new KvmError(
        "EINVAL",
        "KVM_ENABLE_CAP",
        `${describeValue(reason)} is no MSR exit reason (invalid, unknown, filter)`,
      );
    }
    mask |= bit;
  }
  return mask;
}

/** The addon's arguments for KVM_X86_SET_MSR_FILTER: flags, (flags, nmsrs, base) triples, bitmaps back to back. */
export function encodeMsrFilter(filter: MsrFilter): { flags: number; ranges: Uint8Array; bitmaps: Uint8Array } {
  if (filter === null || typeof filter !== "object") bad("the filter must be an object");
  if (typeof filter.defaultDeny !== "boolean") bad("defaultDeny must be a boolean");
  if (!Array.isArray(filter.ranges) || filter.ranges.length > MAX_RANGES)
    bad(`ranges must be an array of at most ${MAX_RANGES}`);
  const ranges = new Uint8Array(filter.ranges.length * 12);
  const view = new DataView(ranges.buffer);
  const parts: Uint8Array[] = [];
  let total = 0;
  filter.ranges.forEach((range, i) => {
    const path = `ranges[${i}]`;
    if (range === null || typeof range !== "object") bad(`${path} must be an object`);
    if (typeof range.read !== "boolean" || typeof range.write !== "boolean" || !(range.read || range.write)) {
      bad(`${path}: read and write must be booleans, at least one true`);
    }
    const nmsrs = u32(range.nmsrs, `${path}.nmsrs`);
    const base = u32(range.base, `${path}.base`);
    const bytes = Math.ceil(nmsrs / 8);
    if (!(range.bitmap instanceof Uint8Array) || range.bitmap.length < bytes) {
      bad(`${path}.bitmap must be a Uint8Array of at least ${bytes} bytes`);
    }
    view.setUint32(i * 12, (range.read ? MSR_FILTER_READ : 0) | (range.write ? MSR_FILTER_WRITE : 0), true);
    view.setUint32(i * 12 + 4, nmsrs, true);
    view.setUint32(i * 12 + 8, base, true);
    parts.push(range.bitmap.subarray(0, bytes));
    total += bytes;
  });
  const bitmaps = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bitmaps.set(part, at);
    at += part.length;
  }
  return { flags: filter.defaultDeny ? 1 : 0, ranges, bitmaps };
}
