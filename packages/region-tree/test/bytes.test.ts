import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { leBytes, loadLe, loadLeNumber, storeLe, storeLeNumber } from "../src/index.js";

/** The oracle: byte i of a little-endian store is bits 8i..8i+7, read one byte at a time by the spec's sum. */
function sumOfBytes(data: Uint8Array, pos: number, size: number): bigint {
  let value = 0n;
  for (let i = 0; i < size; i++) value += BigInt(data[pos + i]!) * 256n ** BigInt(i);
  return value;
}

const sizeArb = fc.integer({ min: 0, max: 16 });

describe("little-endian loads and stores (QEMU's ldn_le_p / stn_le_p)", () => {
  test.prop([fc.uint8Array({ minLength: 0, maxLength: 24 }), fc.nat(24), sizeArb])(
    "loadLe reads the `size` bytes from `pos` as their little-endian sum, on the double path (<= 6) and the bigint path",
    (data, at, want) => {
      const pos = Math.min(at, data.length);
      const size = Math.min(want, data.length - pos);
      expect(loadLe(data, pos, size)).toBe(sumOfBytes(data, pos, size));
    },
  );

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 16 })])("loadLe defaults to the whole array", (data) => {
    expect(loadLe(data)).toBe(sumOfBytes(data, 0, data.length));
  });

  test.prop([fc.bigInt({ min: -(1n << 130n), max: 1n << 130n }), sizeArb, fc.nat(4)])(
    "storeLe writes the low `size` bytes of the value (mod 2^(8 size)) and touches no byte outside them",
    (value, size, pos) => {
      const data = new Uint8Array(pos + size + 4).fill(0xa5);
      storeLe(data, pos, size, value);
      expect(sumOfBytes(data, pos, size)).toBe(BigInt.asUintN(8 * size, value));
      expect([...data.subarray(0, pos), ...data.subarray(pos + size)].every((b) => b === 0xa5)).toBe(true);
    },
  );

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(1, 2, 4, 8)])(
    "leBytes then loadLe gives back the value's low bytes",
    (value, size) => {
      const bytes = leBytes(value, size);
      expect(bytes.length).toBe(size);
      expect(loadLe(bytes)).toBe(BigInt.asUintN(8 * size, value));
    },
  );
});

describe("little-endian loads and stores of numbers (ldn_le_p / stn_le_p up to 6 bytes)", () => {
  const small = fc.integer({ min: 0, max: 6 });

  test.prop([fc.uint8Array({ minLength: 0, maxLength: 12 }), fc.nat(12), small])(
    "loadLeNumber reads the `size` bytes from `pos` as their little-endian sum",
    (data, at, want) => {
      const pos = Math.min(at, data.length);
      const size = Math.min(want, data.length - pos);
      expect(BigInt(loadLeNumber(data, pos, size))).toBe(sumOfBytes(data, pos, size));
    },
  );

  test.prop([fc.maxSafeInteger(), small, fc.nat(4)])(
    "storeLeNumber writes the low `size` bytes of the integer (two's complement when negative) and nothing else",
    (value, size, pos) => {
      const data = new Uint8Array(pos + size + 4).fill(0xa5);
      storeLeNumber(data, pos, size, value);
      expect(sumOfBytes(data, pos, size)).toBe(BigInt.asUintN(8 * size, BigInt(value)));
      expect([...data.subarray(0, pos), ...data.subarray(pos + size)].every((b) => b === 0xa5)).toBe(true);
    },
  );

  test.prop([fc.integer({ min: 7, max: 16 })])(
    "a size of more than 6 bytes is refused (E_INVALID_SIZE): a double would round it",
    (size) => {
      const data = new Uint8Array(16);
      expect(() => loadLeNumber(data, 0, size)).toThrow(expect.objectContaining({ code: "E_INVALID_SIZE" }));
      expect(() => storeLeNumber(data, 0, size, 1)).toThrow(expect.objectContaining({ code: "E_INVALID_SIZE" }));
      expect(data.every((b) => b === 0)).toBe(true);
    },
  );
});
