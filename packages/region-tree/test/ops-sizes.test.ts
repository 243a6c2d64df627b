import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  lazyRamAllocator,
  MemoryRegion,
  type MemoryRegionOps,
  type RamAllocator,
  RegionTreeError,
  StandaloneHost,
} from "../src/index.js";

// Rule: QEMU's memory_region_access_valid and access_with_adjusted_size take an access size of 0 as the default
// (impl: min 1, max 4; valid.max_access_size 0: no size check). Any other size must be 1, 2, 4 or 8: a region refuses
// other ops when it is created (E_INVALID_ACCESS_SIZE, with the field's path), since the split of an access would step
// by a fraction, by nothing or backwards (a read that never returns). A minimum above its maximum is accepted, as QEMU
// accepts it (memtopo's dispatch tests check what accesses then do).

/** A host that counts the RAM blocks it was asked for. */
function countingHost(): { host: StandaloneHost; blocks: () => number } {
  const inner = lazyRamAllocator();
  let blocks = 0;
  const ramAllocator: RamAllocator = {
    ...inner,
    allocate(name, size) {
      blocks++;
      return inner.allocate(name, size);
    },
  };
  return { host: new StandaloneHost({ ramAllocator }), blocks: () => blocks };
}

function refusal(make: () => unknown): RegionTreeError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(RegionTreeError);
    return error as RegionTreeError;
  }
  throw new Error("not refused");
}

const BAD: readonly [string, MemoryRegionOps, string][] = [
  ["negative impl sizes", { impl: { minAccessSize: -1, maxAccessSize: -1 } }, "ops.impl.minAccessSize"],
  ["a negative impl maximum", { impl: { maxAccessSize: -4 } }, "ops.impl.maxAccessSize"],
  ["a fractional impl minimum", { impl: { minAccessSize: 0.5, maxAccessSize: 0.5 } }, "ops.impl.minAccessSize"],
  ["a tiny impl minimum", { impl: { minAccessSize: Number.MIN_VALUE } }, "ops.impl.minAccessSize"],
  ["a size of 3", { impl: { maxAccessSize: 3 } }, "ops.impl.maxAccessSize"],
  ["a size above 8", { valid: { maxAccessSize: 16 } }, "ops.valid.maxAccessSize"],
  ["NaN", { valid: { minAccessSize: Number.NaN } }, "ops.valid.minAccessSize"],
  ["Infinity", { impl: { maxAccessSize: Number.POSITIVE_INFINITY } }, "ops.impl.maxAccessSize"],
  ["a string", { impl: { minAccessSize: "1" as unknown as number } }, "ops.impl.minAccessSize"],
  ["a negative valid maximum", { valid: { maxAccessSize: -1 } }, "ops.valid.maxAccessSize"],
];

describe("ops access sizes are refused at region creation unless QEMU's dispatch can use them", () => {
  for (const [what, ops, path] of BAD) {
    it(`${what}: E_INVALID_ACCESS_SIZE at ${path}, nothing created, ops left unfrozen`, () => {
      const { host, blocks } = countingHost();
      const before = new MemoryRegion(host, { kind: "container", name: "before", size: 1n });
      for (const kind of ["io", "rom-device"] as const) {
        const error = refusal(() => new MemoryRegion(host, { kind, name: "dev", size: 0x1000n, ops }));
        expect(error.code).toBe("E_INVALID_ACCESS_SIZE");
        expect(error.path).toBe(path);
        expect(error.message.startsWith(`${path}: `)).toBe(true);
      }
      expect(blocks()).toBe(0);
      expect(Object.isFrozen(ops)).toBe(false);
      // No id was spent on the refused regions.
      expect(new MemoryRegion(host, { kind: "container", name: "after", size: 1n }).id).toBe(before.id + 1);
    });
  }

  it("valid and impl must be objects when given", () => {
    const error = refusal(
      () =>
        new MemoryRegion(new StandaloneHost(), {
          kind: "io",
          name: "dev",
          size: 4n,
          ops: { impl: 4 as unknown as MemoryRegionOps["impl"] },
        }),
    );
    expect([error.code, error.path]).toEqual(["E_INVALID_ARGUMENT", "ops.impl"]);
  });

  it("0 means the default, as in QEMU: every size 0, 1, 2, 4, 8 is accepted, in any order (QEMU keeps min > max)", () => {
    const sizeArb = fc.constantFrom(undefined, 0, 1, 2, 4, 8);
    fc.assert(
      fc.property(sizeArb, sizeArb, sizeArb, sizeArb, (vMin, vMax, iMin, iMax) => {
        const ops: MemoryRegionOps = {
          valid: { minAccessSize: vMin, maxAccessSize: vMax },
          impl: { minAccessSize: iMin, maxAccessSize: iMax },
        };
        const make = () => new MemoryRegion(new StandaloneHost(), { kind: "io", name: "dev", size: 4n, ops });
        expect(make().ops).toBe(ops);
        expect(Object.isFrozen(ops.impl)).toBe(true);
      }),
    );
  });
});
