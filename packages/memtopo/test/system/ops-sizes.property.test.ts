import { fc, test } from "@fast-check/vitest";
import {
  low32,
  MEMTX_DECODE_ERROR,
  MemoryRegion,
  type MemoryRegionOps,
  RegionTreeError,
  SIZE_2_64,
} from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { planOf, planRead, planWrite } from "../../src/system/dispatch-plan.js";
import { type AccessEnv, dispatchRead, dispatchWrite } from "../../src/system/region-access.js";

// Rule: ops are checked when their region is created (0 is the default, as in QEMU's access_with_adjusted_size and
// memory_region_access_valid; other sizes 1, 2, 4 or 8, in any order). Whatever sizes a device declares,
// either the region is refused typed, or every access of size 1, 2, 4 or 8 at any address reaches the device in at
// most `size` calls: the split of an access (impl) and of a guest access (valid, memory_access_size) always ends.

/** More device calls than any access may make: past it the device throws, so a split that never ends fails here. */
const CALL_LIMIT = 64;
const U64 = SIZE_2_64 - 1n;

// Mostly sizes a region may accept, so that many ops reach the accesses; the rest anything a number can be.
const sizeFieldArb = fc.oneof(
  { arbitrary: fc.constantFrom(undefined, 0, 1, 2, 4, 8), weight: 6 },
  fc.integer({ min: -16, max: 16 }),
  fc.double(),
  fc.constantFrom(Number.MIN_VALUE, -0, 0.5, 2 ** 32, Number.POSITIVE_INFINITY),
);
const constraintsArb = fc.option(
  fc.record({
    minAccessSize: sizeFieldArb,
    maxAccessSize: sizeFieldArb,
    unaligned: fc.option(fc.boolean(), { nil: undefined }),
  }),
  { nil: undefined },
);
const addrArb = fc.oneof(fc.bigInt({ min: 0n, max: U64 }), fc.bigInt({ min: 0n, max: 0x100n }));

const env: AccessEnv = { targetBigEndian: false, userspaceIoeventfds: false, flushCoalescedMmio: () => {} };

describe("any ops a region accepts dispatch every access in a bounded number of device calls", () => {
  test.prop([constraintsArb, constraintsArb, fc.constantFrom("little", "big" as const), addrArb], { numRuns: 300 })(
    "refused typed, or each access of size 1, 2, 4, 8 makes 1..size device calls on every path",
    (valid, impl, endianness, addr) => {
      let calls = 0;
      const count = () => {
        if (++calls > CALL_LIMIT) throw new Error("the access never ends");
      };
      const ops: MemoryRegionOps = {
        read: () => {
          count();
          return 0n;
        },
        write: () => {
          count();
        },
        endianness,
        ...(valid === undefined ? {} : { valid }),
        ...(impl === undefined ? {} : { impl }),
      };
      const sys = new MemorySystem();
      let dev: MemoryRegion;
      try {
        dev = new MemoryRegion(sys, { kind: "io", name: "dev", size: SIZE_2_64, ops });
      } catch (error) {
        expect(error).toBeInstanceOf(RegionTreeError);
        expect((error as RegionTreeError).code).toMatch(/^E_INVALID_ACCESS_SIZE$/);
        return;
      }
      const space = sys.createAddressSpace("I/O", dev);
      const plan = planOf(ops);
      for (const size of [1, 2, 4, 8]) {
        const at = addr > SIZE_2_64 - BigInt(size) ? SIZE_2_64 - BigInt(size) : addr;
        const accesses = [
          () => dispatchRead(dev, ops, at, size, {}, env),
          () => dispatchWrite(dev, ops, at, 0x0102_0304_0506_0708n, size, {}, env),
          () => planRead(dev, plan, at, low32(at), new Uint8Array(8), 0, size, {}, env),
          () => planWrite(dev, plan, at, low32(at), new Uint8Array(8), 0, size, {}, env),
          () => space.read(at, new Uint8Array(size)),
          () => space.write(at, new Uint8Array(size)),
        ];
        for (const access of accesses) {
          calls = 0;
          access();
          expect(calls).toBeLessThanOrEqual(size);
        }
      }
    },
  );
});

// Rule: QEMU keeps ops whose minimum is above their maximum. access_with_adjusted_size takes
// MAX(MIN(size, impl max), impl min), so impl min 8 with the default max 4 reads a 4-byte access as one 8-byte
// piece at its address; memory_region_access_valid refuses any size above a non-zero valid max or below the valid
// min, so valid min 4 with max 2 refuses every access.
describe("a minimum above its maximum, as QEMU keeps it", () => {
  test("impl min 8, default max: each access is one 8-byte device call; the guest gets its low bytes", () => {
    const calls: [bigint, number][] = [];
    const ops: MemoryRegionOps = {
      read: (addr, size) => {
        calls.push([addr, size]);
        return 0x1122_3344_5566_7788n;
      },
      write: () => {},
      impl: { minAccessSize: 8 },
    };
    const dev = new MemoryRegion(new MemorySystem(), { kind: "io", name: "dev", size: 0x100n, ops });
    const plan = planOf(ops);
    for (const size of [1, 2, 4]) {
      calls.length = 0;
      const direct = dispatchRead(dev, ops, 0x10n, size, {}, env);
      expect(calls).toEqual([[0x10n, 8]]);
      // memory_region_read_accessor masks by the piece's size, not the access's: the caller stores `size` bytes.
      expect(direct.value).toBe(0x1122_3344_5566_7788n);
      calls.length = 0;
      const bytes = new Uint8Array(8);
      planRead(dev, plan, 0x10n, 0x10, bytes, 0, size, {}, env);
      expect(calls).toEqual([[0x10n, 8]]);
      expect([...bytes]).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11].map((b, i) => (i < size ? b : 0)));
    }
  });

  test("valid min 4, max 2: every access is a decode error and the device is never called", () => {
    let called = 0;
    const ops: MemoryRegionOps = {
      read: () => {
        called++;
        return 0n;
      },
      write: () => {
        called++;
      },
      valid: { minAccessSize: 4, maxAccessSize: 2 },
    };
    const dev = new MemoryRegion(new MemorySystem(), { kind: "io", name: "dev", size: 0x100n, ops });
    for (const size of [1, 2, 4, 8]) {
      expect(dispatchRead(dev, ops, 0n, size, {}, env).result).toBe(MEMTX_DECODE_ERROR);
      expect(dispatchWrite(dev, ops, 0n, 0n, size, {}, env)).toBe(MEMTX_DECODE_ERROR);
    }
    expect(called).toBe(0);
  });
});
