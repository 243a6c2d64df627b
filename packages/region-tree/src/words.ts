/*
 * A bigint read as two 32-bit halves through a typed array: a typed-array store costs a fraction
 * of `Number(bigint)`, and reading a number back through it costs a fraction of `BigInt(number)`.
 * The hot paths (FlatView lookup, the dispatch of every guest exit) use these; the scratch word
 * holds nothing between calls.
 */
const WORD = new BigUint64Array(1);
const HALVES = new Uint32Array(WORD.buffer);
const LOW = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

/** `BigInt(i)` for 0 <= i < 256. */
const SMALL: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));

/** Below 2^53 every address and every range edge is an exact double. */
export const EXACT_LIMIT = 2 ** 53;
/** EXACT_LIMIT as a bigint: the test a value must pass before it may travel as a double. */
export const BIG_EXACT_LIMIT = 1n << 53n;

/**
 * `x` mod 2^64 as the nearest double, like `Number(x)` for x in [0, 2^64): the high half times
 * 2^32 is exact, so the one rounding is in the sum. Exact below 2^53, and monotonic.
 */
export function toDouble(x: bigint): number {
  WORD[0] = x;
  return HALVES[HIGH]! * 0x1_0000_0000 + HALVES[LOW]!;
}

/** The low 32 bits of `x` mod 2^64, as a number (no allocation). */
export function low32(x: bigint): number {
  WORD[0] = x;
  return HALVES[LOW]!;
}

/**
 * `BigInt(v)` for an integer 0 <= v < 2^53: from a table below 256, else read back through the
 * typed array (an inline allocation, where `BigInt(v)` calls into the runtime).
 */
export function bigFromSafeInteger(v: number): bigint {
  if (v < 256) return SMALL[v]!;
  HALVES[LOW] = v % 0x1_0000_0000;
  HALVES[HIGH] = Math.floor(v / 0x1_0000_0000);
  return WORD[0]!;
}
