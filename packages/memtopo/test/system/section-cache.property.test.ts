import { fc, test } from "@fast-check/vitest";
import { type FlatRange, FlatView } from "@memtopo/flatview";
import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { SectionCache } from "../../src/system/section-cache.js";

const U64 = (1n << 64n) - 1n;
const EXACT = 2n ** 53n;

// Edges near the places where the cache's doubles stop being exact (2^53) or wrap (2^64).
const edgeArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x1_0000n }),
  fc.bigInt({ min: EXACT - 0x100n, max: EXACT + 0x100n }),
  fc.bigInt({ min: U64 - 0x1_0000n, max: U64 }),
  fc.bigInt({ min: 0n, max: U64 }),
);

/** Sorted, non-overlapping ranges with random offsets in their regions: a FlatView's shape. */
const viewArb = fc
  .array(fc.tuple(edgeArb, edgeArb, fc.oneof(fc.bigInt({ min: 0n, max: 0x1000n }), edgeArb)), { maxLength: 8 })
  .map((specs) => {
    const edges = [...new Set(specs.flatMap((spec) => spec.slice(0, 2)))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    return specs
      .map((spec, i) => ({ i, spec }))
      .filter(({ i }) => 2 * i + 1 < edges.length && i % 2 === 0)
      .map(({ i, spec }) => ({ start: edges[2 * i]!, end: edges[2 * i + 1]!, offset: spec[2] }));
  });

function addrsNear(ranges: { start: bigint; end: bigint }[]): fc.Arbitrary<bigint> {
  const near = ranges.flatMap((r) => [r.start, r.end - 1n, r.end, r.start + (r.end - r.start) / 2n]);
  return near.length === 0 ? edgeArb : fc.oneof(edgeArb, fc.constantFrom(...near.filter((a) => a >= 0n && a <= U64)));
}

describe("SectionCache (QEMU's mru_section) against a linear scan", () => {
  test.prop(
    [
      fc.array(viewArb, { minLength: 1, maxLength: 3 }).chain((views) =>
        fc.tuple(
          fc.constant(views),
          fc.array(
            fc.nat(views.length - 1).chain((v) => fc.tuple(fc.constant(v), addrsNear(views[v]!))),
            { maxLength: 60 },
          ),
        ),
      ),
    ],
    { numRuns: 300 },
  )(
    "translate(view, addr) is the range holding addr and addr - start + offsetInRegion (the address itself in a gap), bytesLeft its distance to the range's end, whatever came before",
    ([specs, accesses]) => {
      const sys = new MemorySystem();
      const mr = new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x1000n });
      const views = specs.map(
        (ranges) =>
          new FlatView(
            null,
            ranges.map(
              (r): FlatRange => ({
                mr,
                start: r.start,
                size: r.end - r.start,
                offsetInRegion: r.offset,
                dirtyLogMask: 0,
                romdMode: true,
                readonly: false,
                nonvolatile: false,
              }),
            ),
          ),
      );
      const cache = new SectionCache();
      // Repeats make the cache's last-offset reuse and its view switches happen often.
      for (const [v, addr] of accesses.flatMap((a) => [a, a])) {
        const view = views[v]!;
        const expected = view.ranges.find((r) => addr >= r.start && addr < r.start + r.size);
        const got = cache.translate(view, addr);
        expect(got).toBe(expected);
        expect(cache.xlat).toBe(
          expected === undefined ? addr : BigInt.asUintN(64, addr - expected.start + expected.offsetInRegion),
        );
        if (expected !== undefined) {
          expect(cache.bytesLeft(expected, addr)).toBe(Number(expected.start + expected.size - addr));
        }
      }
    },
  );
});
