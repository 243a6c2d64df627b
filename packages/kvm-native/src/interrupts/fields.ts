import { KvmError } from "@memtopo/kvm";

/**
 * Checked reads of caller objects for the interrupt encoders: every field is validated
 * before a byte is written, and an error names the ioctl and the field's path.
 */
export class FieldReader {
  readonly operation: string;

  constructor(operation: string) {
    this.operation = operation;
  }

  fail(path: string, what: string): never {
    throw new KvmError("EINVAL", this.operation, `${path} ${what}`);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(path, "must be an object");
    return value as Record<string, unknown>;
  }

  /** An unsigned integer of `bits` bits (at most 32). */
  uint(value: unknown, bits: number, path: string, max = 2 ** bits - 1): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
      this.fail(path, `must be an integer in [0, ${max}]`);
    }
    return value;
  }

  /** A bigint of `bits` bits, unsigned or two's complement signed. */
  big(value: unknown, bits: number, path: string, signed = false): bigint {
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    if (typeof value !== "bigint" || value < min || value > max)
      this.fail(path, `must be a bigint in [${min}, ${max}]`);
    return value;
  }

  /** An array of exactly `length` items (read by index, never spread). */
  array(value: unknown, length: number, path: string): readonly unknown[] {
    if (!Array.isArray(value) || value.length !== length) this.fail(path, `must be an array of ${length}`);
    return value;
  }
}

/** Little-endian writes at a layout offset. */
export function put(view: DataView, offset: number, size: 1 | 2 | 4, value: number): void {
  if (size === 1) view.setUint8(offset, value);
  else if (size === 2) view.setUint16(offset, value, true);
  else view.setUint32(offset, value, true);
}

export function get(view: DataView, offset: number, size: 1 | 2 | 4): number {
  if (size === 1) return view.getUint8(offset);
  if (size === 2) return view.getUint16(offset, true);
  return view.getUint32(offset, true);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
