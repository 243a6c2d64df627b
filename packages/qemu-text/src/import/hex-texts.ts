/** 2^SLOT_BITS slots. */
const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS;

/**
 * `0x` hex texts of the sizes, places and offsets a machine file is written with. Most repeat (every block's
 * devices at the same offsets, a few sizes): equal values below 2^53 share one string, from a direct-mapped cache
 * by value, instead of a string of their own per region.
 */
export class HexTexts {
  readonly #values = new Float64Array(SLOTS).fill(-1);
  readonly #texts = new Array<string>(SLOTS).fill("");

  /** `0x` and the significant hex digits of `value` (at least 0). */
  of(value: bigint): string {
    const n = Number(value);
    if (n >= 2 ** 53) return `0x${value.toString(16)}`;
    // Fibonacci hashing of both 32-bit halves: places are aligned, their low bits alone would collide.
    const k = Math.imul((n | 0) ^ Math.imul((n / 0x100000000) | 0, 0x85ebca6b), 0x9e3779b1) >>> (32 - SLOT_BITS);
    if (this.#values[k] === n) return this.#texts[k]!;
    const text = `0x${value.toString(16)}`;
    this.#values[k] = n;
    this.#texts[k] = text;
    return text;
  }
}
