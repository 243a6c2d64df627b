import { fc, test } from "@fast-check/vitest";
import {
  bigFromSafeInteger,
  MemoryRegion,
  type MemoryRegionOps,
  type MemTxAttrs,
  SIZE_2_64,
  toDouble,
} from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { accessValid, memoryAccessSize } from "../../src/system/region-access.js";

// The access-size and alignment rules work on numbers and the low address bits for speed (every guest exit goes
// through them). The oracle for the size is not a formula but a search, as QEMU's memory_access_size reads in words:
// the largest power of two that fits what remains, does not pass the device's maximum (4 when it names none), and,
// unless the device takes unaligned accesses, divides the address. No power of two at all: NaN, as the code gives.
function searchedAccessSize(ops: MemoryRegionOps, remaining: number, addr: bigint): number {
  const max = ops.valid?.maxAccessSize || 4;
  let best = Number.NaN;
  for (let p = 1; p <= remaining && p <= max; p *= 2) {
    if (!ops.impl?.unaligned && addr % BigInt(p) !== 0n) break;
    best = p;
  }
  return best;
}

function referenceValid(ops: MemoryRegionOps, addr: bigint, size: number, isWrite: boolean, attrs: MemTxAttrs) {
  const valid = ops.valid;
  if (valid?.accepts !== undefined && !valid.accepts(addr, size, isWrite, attrs)) return false;
  if (!valid?.unaligned && (addr & BigInt(size - 1)) !== 0n) return false;
  const max = valid?.maxAccessSize ?? 0;
  if (max === 0) return true;
  return size <= max && size >= (valid?.minAccessSize ?? 0);
}

/** Addresses with few or many low zero bits, anywhere in [0, 2^64). */
const addrArb = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 63 }))
    .map(([a, zeros]) => BigInt.asUintN(64, (a >> BigInt(zeros)) << BigInt(zeros))),
  fc.bigInt({ min: 0n, max: 0x1_0000n }),
);
const maxArb = fc.oneof(
  fc.constantFrom(undefined, 0, 1, 2, 3, 4, 6, 8, 16, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40),
  fc.integer({ min: -4, max: 64 }),
);
const opsArb = fc.record({
  max: maxArb,
  min: fc.constantFrom(undefined, 0, 1, 2, 4),
  unalignedImpl: fc.boolean(),
  unalignedValid: fc.boolean(),
});
const toOps = (o: {
  max?: number;
  min?: number;
  unalignedImpl: boolean;
  unalignedValid: boolean;
}): MemoryRegionOps => ({
  valid: { maxAccessSize: o.max, minAccessSize: o.min, unaligned: o.unalignedValid },
  impl: { unaligned: o.unalignedImpl },
});

describe("memory_access_size and the alignment check on numbers", () => {
  test.prop([opsArb, fc.integer({ min: 1, max: 1 << 20 }), addrArb], { numRuns: 2000 })(
    "memoryAccessSize is the largest power of two that fits, within the maximum, dividing the address",
    (o, remaining, addr) => {
      const ops = toOps(o);
      expect(memoryAccessSize(ops, remaining, addr)).toBe(searchedAccessSize(ops, remaining, addr));
    },
  );

  test.prop([opsArb, fc.integer({ min: 0, max: 40 }), addrArb, fc.boolean()], { numRuns: 2000 })(
    "accessValid equals the bigint formula, for any size",
    (o, bit, addr, isWrite) => {
      const ops = toOps(o);
      for (const size of [2 ** bit, 2 ** bit + 1, 3]) {
        expect(accessValid(ops, addr, size, isWrite, {})).toBe(referenceValid(ops, addr, size, isWrite, {}));
      }
    },
  );

  test.prop([addrArb], { numRuns: 2000 })("toDouble is Number() for every 64-bit value", (x) => {
    expect(toDouble(x)).toBe(Number(x));
  });

  test.prop([fc.oneof(fc.nat(300), fc.maxSafeNat())], { numRuns: 2000 })(
    "bigFromSafeInteger is BigInt() for every safe integer",
    (v) => {
      expect(bigFromSafeInteger(v)).toBe(BigInt(v));
    },
  );

  test.prop([fc.constantFrom(2.5, Number.POSITIVE_INFINITY, 0.5), addrArb])(
    "a maxAccessSize that is no integer throws a RangeError (as converting it to a bigint would)",
    (max, addr) => {
      const ops = toOps({ max, unalignedImpl: false, unalignedValid: false });
      expect(() => memoryAccessSize(ops, 8, addr)).toThrow(RangeError);
    },
  );
});

describe("MMIO bytes to and from device values", () => {
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })], {
    numRuns: 500,
  })("a device sees the written bytes little-endian, and a read gives its value's low bytes", (bytes, value) => {
    const sys = new MemorySystem();
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    const writes: [bigint, number][] = [];
    const ops: MemoryRegionOps = {
      read: () => value,
      write: (_offset, v, size) => {
        writes.push([v, size]);
      },
      valid: { maxAccessSize: 8, unaligned: true },
      impl: { maxAccessSize: 8, unaligned: true },
    };
    system.addSubregion(0x1000n, new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x100n, ops }));
    const memory = sys.createAddressSpace("memory", system);
    memory.write(0x1000n, bytes);
    // What the accesses are cut into: powers of two, largest first.
    const expected: [bigint, number][] = [];
    for (let pos = 0; pos < bytes.length; ) {
      const size = 2 ** Math.floor(Math.log2(bytes.length - pos));
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i]!);
      expected.push([v, size]);
      pos += size;
    }
    expect(writes).toEqual(expected);
    const out = new Uint8Array(bytes.length);
    memory.read(0x1000n, out);
    let pos = 0;
    for (const [, size] of expected) {
      for (let i = 0; i < size; i++) expect(out[pos + i]).toBe(Number((value >> BigInt(8 * i)) & 0xffn));
      pos += size;
    }
  });
});
