/** EFLAGS bits. */
export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
/** The flags an arithmetic instruction defines. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of EFLAGS always reads as 1. */
export const FLAGS_FIXED = 0x2;

/** Operand size in bytes. */
export type OpSize = 1 | 2 | 4;

/** A result and the EFLAGS after it. */
export interface AluResult {
  readonly value: number;
  readonly flags: number;
}

export function mask(size: OpSize): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}

function signBit(size: OpSize): number {
  return size === 4 ? 0x8000_0000 : size === 2 ? 0x8000 : 0x80;
}

function truncate(value: number, size: OpSize): number {
  return size === 4 ? value >>> 0 : value & mask(size);
}

function parityEven(value: number): boolean {
  let v = value & 0xff;
  v ^= v >> 4;
  v ^= v >> 2;
  v ^= v >> 1;
  return (v & 1) === 0;
}

/** ZF, SF and PF of a result. */
export function szp(value: number, size: OpSize): number {
  let f = 0;
  if (value === 0) f |= ZF;
  if ((value & signBit(size)) !== 0) f |= SF;
  if (parityEven(value)) f |= PF;
  return f;
}

/** ADD / ADC: `a + b + carry`. */
export function add(a: number, b: number, carry: number, size: OpSize, flags: number): AluResult {
  const full = a + b + carry;
  const value = truncate(full, size);
  let f = (flags & ~ARITH_FLAGS) | szp(value, size);
  if (full > mask(size)) f |= CF;
  if (((a ^ value) & (b ^ value) & signBit(size)) !== 0) f |= OF;
  if (((a ^ b ^ value) & 0x10) !== 0) f |= AF;
  return { value, flags: f };
}

/** SUB / SBB / CMP / NEG: `a - b - borrow`. */
export function sub(a: number, b: number, borrow: number, size: OpSize, flags: number): AluResult {
  const value = truncate(a - b - borrow, size);
  let f = (flags & ~ARITH_FLAGS) | szp(value, size);
  if (a < b + borrow) f |= CF;
  if (((a ^ b) & (a ^ value) & signBit(size)) !== 0) f |= OF;
  if (((a ^ b ^ value) & 0x10) !== 0) f |= AF;
  return { value, flags: f };
}

/** AND / OR / XOR / TEST: CF and OF cleared; AF is undefined on hardware and left clear here. */
export function logic(value: number, size: OpSize, flags: number): AluResult {
  const v = truncate(value, size);
  return { value: v, flags: (flags & ~ARITH_FLAGS) | szp(v, size) };
}

/** INC / DEC: as ADD / SUB of 1, but CF is left as it was. */
export function incDec(a: number, delta: 1 | -1, size: OpSize, flags: number): AluResult {
  const r = delta === 1 ? add(a, 1, 0, size, flags) : sub(a, 1, 0, size, flags);
  return { value: r.value, flags: (r.flags & ~CF) | (flags & CF) };
}

/** The eight group-1 operations, by the ModRM reg field (ADD OR ADC SBB AND SUB XOR CMP). */
export function group1(op: number, a: number, b: number, size: OpSize, flags: number): AluResult {
  const carry = flags & CF;
  switch (op & 7) {
    case 0:
      return add(a, b, 0, size, flags);
    case 1:
      return logic(a | b, size, flags);
    case 2:
      return add(a, b, carry, size, flags);
    case 3:
      return sub(a, b, carry, size, flags);
    case 4:
      return logic(a & b, size, flags);
    case 5:
    case 7:
      return sub(a, b, 0, size, flags);
    default:
      return logic(a ^ b, size, flags);
  }
}

/**
 * The group-2 shifts and rotates by the ModRM reg field (ROL ROR RCL RCR SHL SHR SAL SAR). The
 * count is masked to 5 bits; a zero count changes nothing. OF is defined for a count of 1
 * only; for larger counts it is computed the same way (hardware leaves it undefined).
 */
export function shift(op: number, a: number, count: number, size: OpSize, flags: number): AluResult {
  const n = count & 0x1f;
  if (n === 0) return { value: a, flags };
  const bits = size * 8;
  const top = signBit(size);
  let value: number;
  let cf: boolean;
  let of: boolean;
  let f = flags;
  switch (op & 7) {
    case 0: {
      // ROL
      const r = n % bits;
      value = truncate(r === 0 ? a : (a << r) | (a >>> (bits - r)), size);
      cf = (value & 1) !== 0;
      of = ((value & top) !== 0) !== cf;
      break;
    }
    case 1: {
      // ROR
      const r = n % bits;
      value = truncate(r === 0 ? a : (a >>> r) | (a << (bits - r)), size);
      cf = (value & top) !== 0;
      of = ((value & top) !== 0) !== ((value & (top >>> 1)) !== 0);
      break;
    }
    case 2:
    case 3: {
      // RCL / RCR through a (bits + 1)-bit rotation: done bit by bit, the count is at most 31.
      const r = n % (bits + 1);
      value = a;
      let c = (flags & CF) !== 0;
      for (let i = 0; i < r; i++) {
        if ((op & 7) === 2) {
          const out = (value & top) !== 0;
          value = truncate((value << 1) | (c ? 1 : 0), size);
          c = out;
        } else {
          const out = (value & 1) !== 0;
          value = (value >>> 1) | (c ? top : 0);
          c = out;
        }
      }
      value = truncate(value, size);
      cf = c;
      of = (op & 7) === 2 ? ((value & top) !== 0) !== cf : ((value & top) !== 0) !== ((value & (top >>> 1)) !== 0);
      break;
    }
    case 4:
    case 6: {
      // SHL / SAL
      cf = n <= bits && ((a >>> (bits - n)) & 1) !== 0 && n > 0;
      value = n >= bits ? 0 : truncate(a << n, size);
      of = ((value & top) !== 0) !== cf;
      f = (f & ~ARITH_FLAGS) | szp(value, size);
      break;
    }
    case 5: {
      // SHR
      cf = n <= bits && ((a >>> (n - 1)) & 1) !== 0;
      value = n >= bits ? 0 : a >>> n;
      of = (a & top) !== 0;
      f = (f & ~ARITH_FLAGS) | szp(value, size);
      break;
    }
    default: {
      // SAR: shift the sign-extended value.
      const signed = size === 4 ? a | 0 : (a << (32 - bits)) >> (32 - bits);
      const s = Math.min(n, 31);
      cf = ((signed >> (s - 1)) & 1) !== 0;
      value = truncate(signed >> s, size);
      of = false;
      f = (f & ~ARITH_FLAGS) | szp(value, size);
      break;
    }
  }
  f = (f & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
  return { value, flags: f };
}

/** Sign-extends a `size`-byte value to a JS number. */
export function signExtend(value: number, size: OpSize): number {
  if (size === 4) return value | 0;
  const bits = 32 - size * 8;
  return (value << bits) >> bits;
}
