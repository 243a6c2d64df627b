import type { TypeWord } from "./parse-tree.js";

/** What {@link RegionLineReader.read} found on a line, valid until the next read. */
export interface RegionLineFields {
  /** Spaces before the start: two per level. */
  indent: number;
  start: bigint;
  end: bigint;
  priority: number;
  nonvolatile: boolean;
  type: TypeWord;
  /** Where the name part (everything after `): `) begins. */
  restFrom: number;
}

/** 2^SLOT_BITS slots of shared addresses. */
const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS;

/** Type words as printed, each followed by `): `. */
const TYPES: readonly TypeWord[] = ["ram", "rom", "romd", "ramd", "i/o"];

const SPACE = 0x20;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Reads the usual region line of `info mtree` where it lies in the text, without a string or a match per field:
 * a regular expression's match made an array and seven strings per line, and each address a string and a bigint
 * of its own, for the 1.5 million lines of a 100 MB dump. Only the plain form is read here (no overflow mark, a
 * priority of at most nine digits, an end not below its start); anything else is left to the full expression,
 * which reads it or says what is wrong, so both ways give the same lines and the same errors.
 *
 * Addresses repeat (every block's devices sit at the same offsets): equal ones are one bigint, from a
 * direct-mapped cache by their two 32-bit halves.
 */
export class RegionLineReader {
  readonly fields: RegionLineFields = {
    indent: 0,
    start: 0n,
    end: 0n,
    priority: 0,
    nonvolatile: false,
    type: "ram",
    restFrom: 0,
  };
  readonly #high = new Float64Array(SLOTS).fill(-1);
  readonly #low = new Float64Array(SLOTS);
  readonly #values = new Array<bigint>(SLOTS).fill(0n);
  /** The halves of the last address read by {@link #hex64}. */
  #hi = 0;
  #lo = 0;

  /** Whether `text[from, to)` is a region line of the plain form; its parts are then in {@link fields}. */
  read(text: string, from: number, to: number): boolean {
    const f = this.fields;
    let p = from;
    while (p < to && text.charCodeAt(p) === SPACE) p++;
    const indent = p - from;
    if (indent < 2 || indent % 2 !== 0) return false;
    if (!this.#hex64(text, p) || text.charCodeAt(p + 16) !== MINUS) return false;
    const sHi = this.#hi;
    const sLo = this.#lo;
    if (!this.#hex64(text, p + 17)) return false;
    const eHi = this.#hi;
    const eLo = this.#lo;
    // Below the start, the line must carry QEMU's overflow mark: the full expression says so.
    if (eHi < sHi || (eHi === sHi && eLo < sLo)) return false;
    p += 33;
    if (!text.startsWith(" (prio ", p)) return false;
    p += 7;
    const negative = text.charCodeAt(p) === MINUS;
    if (negative) p++;
    const digitsFrom = p;
    let priority = 0;
    for (let c = text.charCodeAt(p); c >= ZERO && c <= NINE; c = text.charCodeAt(++p))
      priority = priority * 10 + c - ZERO;
    if (p === digitsFrom || p - digitsFrom > 9 || !text.startsWith(", ", p)) return false;
    p += 2;
    const nonvolatile = text.startsWith("nv-", p);
    if (nonvolatile) p += 3;
    let type: TypeWord | null = null;
    for (const word of TYPES) {
      if (text.startsWith(word, p) && text.startsWith("): ", p + word.length)) {
        type = word;
        p += word.length + 3;
        break;
      }
    }
    if (type === null || p > to) return false;
    // The name runs to the end of the line; `.` in the expression stops at CR and the Unicode line separators.
    for (let k = p; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === 0x0d || c === 0x2028 || c === 0x2029) return false;
    }
    f.indent = indent;
    f.start = this.#bigint(sHi, sLo);
    f.end = this.#bigint(eHi, eLo);
    // `-0` as Number("-0") reads it.
    f.priority = negative ? -priority : priority;
    f.nonvolatile = nonvolatile;
    f.type = type;
    f.restFrom = p;
    return true;
  }

  /** Reads 16 lowercase hex digits at `p` into {@link #hi} and {@link #lo}. */
  #hex64(text: string, p: number): boolean {
    let hi = 0;
    let lo = 0;
    for (let k = 0; k < 16; k++) {
      const c = text.charCodeAt(p + k);
      let d: number;
      if (c >= ZERO && c <= NINE) d = c - ZERO;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else return false;
      if (k < 8) hi = hi * 16 + d;
      else lo = lo * 16 + d;
    }
    this.#hi = hi;
    this.#lo = lo;
    return true;
  }

  #bigint(hi: number, lo: number): bigint {
    // Fibonacci hashing of both halves: addresses are aligned, their low bits alone would collide.
    const k = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - SLOT_BITS);
    if (this.#high[k] === hi && this.#low[k] === lo) return this.#values[k]!;
    const value = hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
    this.#high[k] = hi;
    this.#low[k] = lo;
    this.#values[k] = value;
    return value;
  }
}
