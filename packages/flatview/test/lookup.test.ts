import { SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlatRange } from "../src/flat-range.js";
import { FlatView } from "../src/flatview.js";
import { bareRange } from "./bare-range.js";

const TWO_53 = 1n << 53n;
const range = bareRange;

/** The lookup oracle: a scan of every range with exact bigint compares. */
function oracle(ranges: readonly FlatRange[], addr: bigint): FlatRange | undefined {
  return ranges.find((r) => r.start <= addr && addr < r.start + r.size);
}

/** Ranges over the given edges: each interval between two consecutive edges is a range or a gap. */
function rangesFromEdges(edges: readonly bigint[], assigned: readonly boolean[]): FlatRange[] {
  const sorted = [...new Set(edges)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: FlatRange[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    if (assigned[i % assigned.length]) out.push(range(sorted[i]!, sorted[i + 1]! - sorted[i]!));
  }
  return out;
}

/** Addresses worth probing: every range's start-1/start/end-1/end, the 2^53 and 2^64 edges, and outside [0, 2^64). */
function probes(ranges: readonly FlatRange[], extra: readonly bigint[]): bigint[] {
  const out = new Set<bigint>([
    ...extra,
    0n,
    1n,
    TWO_53 - 1n,
    TWO_53,
    TWO_53 + 1n,
    SIZE_2_64 - 1n,
    SIZE_2_64,
    -1n,
    // Equal to in-range addresses modulo 2^64: must not be taken for them.
    SIZE_2_64 + 0x1000n,
    -SIZE_2_64 + 0x1000n,
  ]);
  for (const r of ranges) {
    for (const a of [r.start - 1n, r.start, r.start + r.size / 2n, r.start + r.size - 1n, r.start + r.size]) {
      out.add(a);
      out.add(a + SIZE_2_64);
    }
  }
  return [...out];
}

/** Where the fast path changes: near 0, around 2^32, across 2^53, up to 2^64; or anywhere. */
const place = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x4000n }),
  fc.bigInt({ min: 0xffff_f000n, max: 0x1_0000_3000n }),
  fc.bigInt({ min: TWO_53 - 0x3000n, max: TWO_53 + 0x3000n }),
  fc.bigInt({ min: SIZE_2_64 - 0x3000n, max: SIZE_2_64 }),
  fc.bigInt({ min: 0n, max: SIZE_2_64 }),
);
/** Edges in clusters around random places: dense clusters make the lookup tables split into finer ones. */
const edges = fc
  .array(fc.tuple(place, fc.array(fc.bigInt({ min: 0n, max: 0x800n }), { maxLength: 40 })), { maxLength: 6 })
  .map((clusters) =>
    clusters.flatMap(([at, offsets]) => [at, ...offsets.map((o) => at + o)]).filter((a) => a <= SIZE_2_64),
  );

/**
 * Probes a fresh view of `ranges` the way a view lives: its first lookups are exact bigint
 * searches, then it builds its index (after a quarter of its range count plus 512 lookups).
 * So: the addresses on the fresh view, then as many lookups again as the view has ranges plus
 * 1000 (more than the index waits for), then the addresses once more, now through the index.
 */
function expectLookupsLikeOracle(ranges: readonly FlatRange[], addrs: readonly bigint[]): void {
  const view = new FlatView(null, ranges);
  const check = () => {
    for (const addr of addrs) expect(view.lookup(addr), `lookup(0x${addr.toString(16)})`).toBe(oracle(ranges, addr));
  };
  check();
  for (let i = 0; i < ranges.length + 1000; i++) view.lookup(addrs[i % addrs.length]!);
  check();
}

describe("FlatView.lookup equals a scan of the ranges (flatview_translate: an address maps to the range holding it, or to unassigned)", () => {
  it("on random views with gaps, clusters, ranges straddling 2^53 and ranges up to 2^64, probed in random order", () => {
    fc.assert(
      fc.property(
        edges,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
        fc.array(place, { maxLength: 30 }),
        fc.func(fc.integer()),
        (cuts, assigned, extra, order) => {
          const ranges = rangesFromEdges(cuts, assigned);
          // A shuffled order, so the remembered last range is sometimes right and sometimes not.
          const addrs = probes(ranges, extra)
            .map((a, i) => [order(i), a] as const)
            .sort((x, y) => x[0] - y[0])
            .map(([, a]) => a);
          expectLookupsLikeOracle(ranges, addrs);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("on an empty view every address is unassigned", () => {
    expectLookupsLikeOracle([], probes([], [0x1234n]));
    expect(new FlatView(null, []).lookup(0n)).toBeUndefined();
  });

  it("on single-range views: at 0, straddling 2^53, above 2^53, the whole 2^64 space, ending at 2^64", () => {
    for (const [start, size] of [
      [0n, 1n],
      [0x1000n, 0x1000n],
      [TWO_53 - 0x10n, 0x20n],
      [TWO_53, 1n],
      [TWO_53 + 1n, 0x1000n],
      [0n, SIZE_2_64],
      [SIZE_2_64 - 1n, 1n],
      [0x8000_0000_0000_0000n, 0x8000_0000_0000_0000n],
    ] as const) {
      const ranges = [range(start, size)];
      expectLookupsLikeOracle(ranges, probes(ranges, []));
    }
    expect(new FlatView(null, [range(0n, SIZE_2_64)]).lookup(SIZE_2_64 - 1n)?.size).toBe(SIZE_2_64);
    expect(new FlatView(null, [range(SIZE_2_64 - 1n, 1n)]).lookup(SIZE_2_64)).toBeUndefined();
  });

  it("on a sparse map with dense clusters (tables split several levels deep) and a range near 2^53", () => {
    const ranges: FlatRange[] = [];
    // 1000 ranges of 16 bytes with 16-byte gaps at 0x1000, 300 touching ranges of 1 byte at 4 GiB.
    for (let i = 0n; i < 1000n; i++) ranges.push(range(0x1000n + i * 32n, 16n));
    for (let i = 0n; i < 300n; i++) ranges.push(range(0x1_0000_0000n + i, 1n));
    ranges.push(range(TWO_53 - 0x100_0000n, 0x10_0000n));
    expectLookupsLikeOracle(ranges, probes(ranges, [0x4_0000_0000n, TWO_53 - 0x100_0001n]));
  });

  it("on ranges of 1 byte just below 2^53, at 2^53 and just above (rounding neighbours as doubles)", () => {
    const ranges: FlatRange[] = [];
    for (let a = TWO_53 - 20n; a < TWO_53 + 20n; a += 3n) ranges.push(range(a, 1n));
    for (let a = SIZE_2_64 - 40n; a < SIZE_2_64; a += 2n) ranges.push(range(a, 1n));
    const all: bigint[] = [];
    for (let a = TWO_53 - 24n; a < TWO_53 + 24n; a++) all.push(a);
    for (let a = SIZE_2_64 - 44n; a <= SIZE_2_64; a++) all.push(a);
    expectLookupsLikeOracle(ranges, all);
    expectLookupsLikeOracle(ranges, all.reverse());
  });
});
