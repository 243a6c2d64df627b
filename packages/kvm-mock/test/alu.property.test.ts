import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AF, add, CF, group1, incDec, logic, OF, type OpSize, PF, SF, shift, sub, ZF } from "../src/cpu/alu.js";

// The interpreter's flags against an oracle written from the SDM's definitions in plain
// bigint arithmetic: signed and unsigned results computed separately, never by bit tricks.

const sizes: OpSize[] = [1, 2, 4];
const operand = (size: OpSize) => fc.bigInt({ min: 0n, max: (1n << BigInt(size * 8)) - 1n }).map(Number);
const sized = fc.constantFrom(...sizes).chain((size) => fc.tuple(fc.constant(size), operand(size), operand(size)));

function signed(value: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, value);
}

/** ZF, SF and PF of a `bits`-wide result, by definition. */
function resultFlags(result: bigint, bits: number): number {
  let f = 0;
  if (result === 0n) f |= ZF;
  if (result >> BigInt(bits - 1) === 1n) f |= SF;
  const ones = (result & 0xffn)
    .toString(2)
    .split("")
    .filter((c) => c === "1").length;
  if (ones % 2 === 0) f |= PF;
  return f;
}

function oracleAdd(a: number, b: number, carry: number, size: OpSize): { value: number; flags: number } {
  const bits = size * 8;
  const sum = BigInt(a) + BigInt(b) + BigInt(carry);
  const value = BigInt.asUintN(bits, sum);
  const signedSum = signed(BigInt(a), bits) + signed(BigInt(b), bits) + BigInt(carry);
  let flags = resultFlags(value, bits);
  if (sum >= 1n << BigInt(bits)) flags |= CF;
  if (signedSum !== signed(value, bits)) flags |= OF;
  if ((BigInt(a) & 0xfn) + (BigInt(b) & 0xfn) + BigInt(carry) > 0xfn) flags |= AF;
  return { value: Number(value), flags };
}

function oracleSub(a: number, b: number, borrow: number, size: OpSize): { value: number; flags: number } {
  const bits = size * 8;
  const difference = BigInt(a) - BigInt(b) - BigInt(borrow);
  const value = BigInt.asUintN(bits, difference);
  const signedDifference = signed(BigInt(a), bits) - signed(BigInt(b), bits) - BigInt(borrow);
  let flags = resultFlags(value, bits);
  if (difference < 0n) flags |= CF;
  if (signedDifference !== signed(value, bits)) flags |= OF;
  if ((BigInt(a) & 0xfn) - (BigInt(b) & 0xfn) - BigInt(borrow) < 0n) flags |= AF;
  return { value: Number(value), flags };
}

const ARITH = CF | PF | AF | ZF | SF | OF;

describe("the interpreter's ALU against the SDM's definitions", () => {
  test.prop([sized, fc.boolean()])(
    "ADD/ADC: result, CF (unsigned overflow), OF (signed overflow), AF, ZF, SF, PF",
    ([size, a, b], c) => {
      const carry = c ? 1 : 0;
      const r = add(a, b, carry, size, 0x2);
      const o = oracleAdd(a, b, carry, size);
      expect([r.value, r.flags & ARITH]).toEqual([o.value, o.flags]);
    },
  );

  test.prop([sized, fc.boolean()])("SUB/SBB/CMP: result, CF (borrow), OF, AF, ZF, SF, PF", ([size, a, b], c) => {
    const borrow = c ? 1 : 0;
    const r = sub(a, b, borrow, size, 0x2);
    const o = oracleSub(a, b, borrow, size);
    expect([r.value, r.flags & ARITH]).toEqual([o.value, o.flags]);
  });

  test.prop([sized, fc.integer({ min: 0, max: 7 }), fc.boolean()])(
    "group 1 (ADD OR ADC SBB AND SUB XOR CMP): each operation's result and defined flags",
    ([size, a, b], op, c) => {
      const flagsIn = 0x2 | (c ? CF : 0);
      const r = group1(op, a, b, size, flagsIn);
      const carry = c ? 1 : 0;
      const bits = size * 8;
      let expected: { value: number; flags: number };
      if (op === 0) expected = oracleAdd(a, b, 0, size);
      else if (op === 2) expected = oracleAdd(a, b, carry, size);
      else if (op === 3) expected = oracleSub(a, b, carry, size);
      else if (op === 5 || op === 7) expected = oracleSub(a, b, 0, size);
      else {
        const v = BigInt.asUintN(bits, BigInt(op === 1 ? a | b : op === 4 ? a & b : a ^ b));
        // Logic operations clear CF and OF; AF is undefined (the interpreter leaves it clear).
        expected = { value: Number(v), flags: resultFlags(v, bits) };
      }
      expect([r.value, r.flags & ARITH]).toEqual([expected.value, expected.flags]);
    },
  );

  test.prop([sized, fc.boolean(), fc.boolean()])(
    "INC/DEC: as ADD/SUB of 1, with CF left as it was",
    ([size, a], inc, c) => {
      const flagsIn = 0x2 | (c ? CF : 0);
      const r = incDec(a, inc ? 1 : -1, size, flagsIn);
      const o = inc ? oracleAdd(a, 1, 0, size) : oracleSub(a, 1, 0, size);
      expect([r.value, r.flags & ARITH]).toEqual([o.value, (o.flags & ~CF) | (c ? CF : 0)]);
    },
  );

  test.prop([sized, fc.integer({ min: 1, max: 31 }), fc.constantFrom(4, 5, 7)])(
    "SHL/SHR/SAR: result, CF (the last bit shifted out), ZF/SF/PF, OF for a count of 1",
    ([size, a], count, op) => {
      const bits = size * 8;
      const r = shift(op, a, count, size, 0x2);
      const x = BigInt(a);
      let value: bigint;
      let cf: boolean;
      if (op === 4) {
        value = BigInt.asUintN(bits, x << BigInt(count));
        cf = count <= bits && ((x >> BigInt(bits - count)) & 1n) === 1n;
      } else if (op === 5) {
        value = count >= bits ? 0n : x >> BigInt(count);
        cf = count <= bits && ((x >> BigInt(count - 1)) & 1n) === 1n;
      } else {
        const s = signed(x, bits);
        value = BigInt.asUintN(bits, s >> BigInt(count));
        cf = ((s >> BigInt(Math.min(count, bits) - 1)) & 1n) === 1n;
      }
      expect(r.value).toBe(Number(value));
      expect(r.flags & (CF | ZF | SF | PF)).toBe(resultFlags(value, bits) | (cf ? CF : 0));
      if (count === 1) {
        const top = (BigInt(r.value) >> BigInt(bits - 1)) & 1n;
        const of = op === 4 ? (top === 1n) !== cf : op === 5 ? ((x >> BigInt(bits - 1)) & 1n) === 1n : false;
        expect((r.flags & OF) !== 0).toBe(of);
      }
    },
  );

  test.prop([sized, fc.integer({ min: 1, max: 31 }), fc.constantFrom(0, 1)])(
    "ROL/ROR: the rotated value, CF the bit that wrapped around; other flags untouched",
    ([size, a], count, op) => {
      const bits = BigInt(size * 8);
      const r = shift(op, a, count, size, 0x2 | ZF);
      const n = BigInt(count) % bits;
      const x = BigInt(a);
      const value =
        op === 0
          ? BigInt.asUintN(Number(bits), (x << n) | (x >> (bits - n)))
          : BigInt.asUintN(Number(bits), (x >> n) | (x << (bits - n)));
      expect(r.value).toBe(Number(value));
      const cf = op === 0 ? (value & 1n) === 1n : value >> (bits - 1n) === 1n;
      expect([(r.flags & CF) !== 0, (r.flags & ZF) !== 0]).toEqual([cf, true]);
    },
  );

  test.prop([sized])("AND/OR/XOR clear CF and OF", ([size, a, b]) => {
    const r = logic(a & b, size, 0x2 | CF | OF);
    expect(r.flags & (CF | OF)).toBe(0);
  });
});
