import { MigrationError } from "./errors.js";

/**
 * What a device model's or a vCPU's saved state may hold: JSON values, plus `bigint`
 * (64-bit registers) and `Uint8Array` (raw areas), which the stream tags so they round-trip.
 */
export type StateValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | readonly StateValue[]
  | { readonly [key: string]: StateValue };

const BIGINT_TAG = "$bigint";
const BYTES_TAG = "$bytes";

/** UTF-8 JSON of `value`, with bigint as `{"$bigint":"0x…"}` and bytes as `{"$bytes":"<base64>"}`. */
export function encodeState(value: StateValue): Uint8Array {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return { [BIGINT_TAG]: `${v < 0n ? "-" : ""}0x${(v < 0n ? -v : v).toString(16)}` };
    if (v instanceof Uint8Array)
      return { [BYTES_TAG]: Buffer.from(v.buffer, v.byteOffset, v.length).toString("base64") };
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new MigrationError("E_INVALID_ARGUMENT", `state holds a non-finite number (${v})`);
    }
    if (v === undefined || typeof v === "function" || typeof v === "symbol") {
      throw new MigrationError("E_INVALID_ARGUMENT", `state holds a ${typeof v}, which a stream cannot carry`);
    }
    return v;
  });
  return new TextEncoder().encode(text);
}

const BIGINT_TEXT = /^-?0x[0-9a-f]+$/;

/** The inverse of {@link encodeState}; a malformed payload is `code` (the section it came from). */
export function decodeState(bytes: Uint8Array, code: "E_STREAM_VCPU" | "E_STREAM_DEVICE" | "E_STREAM_MAP"): StateValue {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return JSON.parse(text, (_key, v: unknown) => {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
      const keys = Object.keys(v);
      if (keys.length !== 1) return v;
      const tagged = (v as Record<string, unknown>)[keys[0]!];
      if (keys[0] === BIGINT_TAG && typeof tagged === "string" && BIGINT_TEXT.test(tagged)) {
        return tagged.startsWith("-") ? -BigInt(tagged.slice(1)) : BigInt(tagged);
      }
      if (keys[0] === BYTES_TAG && typeof tagged === "string") return new Uint8Array(Buffer.from(tagged, "base64"));
      return v;
    }) as StateValue;
  } catch (cause) {
    throw new MigrationError(code, "the state payload is not the tagged JSON the format specifies", { cause });
  }
}
