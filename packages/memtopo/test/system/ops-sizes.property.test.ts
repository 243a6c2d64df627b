import { fc, test } from "@fast-check/vitest";
import { low32, MemoryRegion, type MemoryRegionOps, RegionTreeError, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { planOf, planRead, planWrite } from "../../src/system/dispatch-plan.js";
import { type AccessEnv, dispatchRead, dispatchWrite } from "../../src/system/region-access.js";

// Rule: ops are checked when their region is created (0 is the default, as in QEMU's access_with_adjusted_size and
// memory_region_access_valid; other sizes 1, 2, 4 or 8, minimum at most maximum). Whatever sizes a device declares,
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
