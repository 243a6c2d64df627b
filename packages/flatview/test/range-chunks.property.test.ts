import { SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlatRange } from "../src/flat-range.js";
import { FlatView } from "../src/flatview.js";
import { type ChunkSplice, RANGE_CHUNK, RangeChunks } from "../src/range-chunks.js";
import { bareRange } from "./bare-range.js";

// A view's ranges held in shared chunks must behave as the one array they stand for: the array with
// the splices applied (Array.prototype.splice, the oracle), the same positions, the same searches as
// a linear scan, and the list a view was made from must not change when another is made from it
// (an old FlatView stays valid for whoever still holds it, as QEMU's old view does).

const TWO_53 = 1n << 53n;

/** Sorted, disjoint ranges over edges (each interval between consecutive edges a range or a gap). */
function rangesFrom(edges: readonly bigint[], assigned: readonly boolean[]): FlatRange[] {
  const sorted = [...new Set(edges)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: FlatRange[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    if (assigned[i % assigned.length]) out.push(bareRange(sorted[i]!, sorted[i + 1]! - sorted[i]!));
  }
  return out;
}

/** An edge near 0, 2^53 or 2^64, so that searches cross where doubles stop being exact. */
const edgeArb = fc
  .tuple(fc.constantFrom(0n, 0x10000n, TWO_53, SIZE_2_64), fc.integer({ min: -300, max: 300 }))
  .map(([a, k]) => a + BigInt(k) * 0x100n)
  .filter((x) => x >= 0n && x <= SIZE_2_64);

const rangesArb = fc
  .tuple(fc.array(edgeArb, { maxLength: 400 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }))
  .map(([edges, assigned]) => rangesFrom(edges, assigned));

/** Raw picks of one round of splices: positions taken modulo the list's length plus one when applied. */
const roundArb = fc.array(fc.tuple(fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), fc.nat({ max: 80 })), {
  maxLength: 5,
});

/** A round's picks as splices of a list of `length` ranges: sorted, disjoint, fresh ranges of any count. */
function splicesOf(picks: readonly [number, number, number][], length: number): ChunkSplice[] {
  const cuts = picks.map(([x, y, n]) => {
    const a = x % (length + 1);
    const b = y % (length + 1);
    return { a: Math.min(a, b), b: Math.max(a, b), n };
  });
  cuts.sort((p, q) => p.a - q.a || p.b - q.b);
  const out: ChunkSplice[] = [];
  let pos = 0;
  for (const { a, b, n } of cuts) {
    if (a < pos) continue;
    // Fresh ranges are new objects; their bounds do not matter to the list.
    out.push({ oldStart: a, oldEnd: b, ranges: Array.from({ length: n }, (_, i) => bareRange(BigInt(i), 1n)) });
    pos = b;
  }
  return out;
}

function applyOracle(ranges: readonly FlatRange[], splices: readonly ChunkSplice[]): FlatRange[] {
  const out = [...ranges];
  for (let k = splices.length - 1; k >= 0; k--) {
    const s = splices[k]!;
    out.splice(s.oldStart, s.oldEnd - s.oldStart, ...s.ranges);
  }
  return out;
}

function probes(ranges: readonly FlatRange[]): bigint[] {
  const out = new Set<bigint>([0n, 1n, TWO_53 - 1n, TWO_53, TWO_53 + 1n, SIZE_2_64 - 1n, SIZE_2_64, -1n]);
  for (const r of ranges) {
    for (const d of [-1n, 0n, 1n]) {
      out.add(r.start + d);
      out.add(r.start + r.size + d);
    }
  }
  return [...out];
}

const linear = {
  endingAtOrAfter: (rs: readonly FlatRange[], pos: bigint) => firstIndex(rs, (r) => r.start + r.size >= pos),
  endingAfter: (rs: readonly FlatRange[], pos: bigint) => firstIndex(rs, (r) => r.start + r.size > pos),
  startingAfter: (rs: readonly FlatRange[], pos: bigint) => firstIndex(rs, (r) => r.start > pos),
  startingAtOrAfter: (rs: readonly FlatRange[], pos: bigint) => firstIndex(rs, (r) => r.start >= pos),
};

function firstIndex(rs: readonly FlatRange[], ok: (r: FlatRange) => boolean): number {
  const i = rs.findIndex(ok);
  return i < 0 ? rs.length : i;
}

describe("RangeChunks: a view's ranges in shared chunks", () => {
  it("positions and searches agree with a linear scan of the array, around 2^53 and 2^64", () => {
    fc.assert(
      fc.property(rangesArb, (ranges) => {
        const chunks = RangeChunks.of(ranges);
        expect(chunks.length).toBe(ranges.length);
        expect(chunks.flatten()).toEqual(ranges);
        for (let i = -1; i <= ranges.length; i++) expect(chunks.at(i)).toBe(ranges[i]);
        for (const pos of probes(ranges)) {
          expect(chunks.firstEndingAtOrAfter(pos), `ending at/after ${pos}`).toBe(linear.endingAtOrAfter(ranges, pos));
          expect(chunks.firstEndingAfter(pos), `ending after ${pos}`).toBe(linear.endingAfter(ranges, pos));
          expect(chunks.firstStartingAfter(pos), `starting after ${pos}`).toBe(linear.startingAfter(ranges, pos));
          expect(chunks.firstStartingAtOrAfter(pos), `starting at/after ${pos}`).toBe(
            linear.startingAtOrAfter(ranges, pos),
          );
          expect(chunks.find(pos), `find ${pos}`).toBe(ranges.find((r) => r.start <= pos && pos < r.start + r.size));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("chains of splices give the spliced array, keep every earlier list as it was, and keep chunks bounded", () => {
    fc.assert(
      fc.property(rangesArb, fc.array(roundArb, { minLength: 1, maxLength: 12 }), (ranges, rounds) => {
        let oracle: FlatRange[] = ranges;
        let chunks = RangeChunks.of(ranges);
        const history: { chunks: RangeChunks; ranges: FlatRange[] }[] = [{ chunks, ranges: oracle }];
        for (const round of rounds) {
          const splices = splicesOf(round, oracle.length);
          oracle = applyOracle(oracle, splices);
          chunks = chunks.withSplices(splices);
          history.push({ chunks, ranges: oracle });
          expect(chunks.length).toBe(oracle.length);
          const flat = chunks.flatten();
          expect(flat.length).toBe(oracle.length);
          for (let i = 0; i < oracle.length; i++) expect(flat[i]).toBe(oracle[i]);
          for (let i = 0; i <= oracle.length; i++) expect(chunks.at(i)).toBe(oracle[i]);
          const a = oracle.length >>> 2;
          const b = oracle.length - a;
          expect(chunks.slice(a, b)).toEqual(oracle.slice(a, b));
          // Bounded chunks: none shorter than half the cut length when there are several, so a commit
          // copies at most about 2n / RANGE_CHUNK chunk pointers.
          expect(chunks.chunkCount).toBeLessThanOrEqual(Math.floor(oracle.length / (RANGE_CHUNK / 2)) + 1);
        }
        for (const h of history) {
          const flat = h.chunks.flatten();
          expect(flat.length).toBe(h.ranges.length);
          for (let i = 0; i < h.ranges.length; i++) expect(flat[i]).toBe(h.ranges[i]);
        }
      }),
      { numRuns: 120 },
    );
  });

  it("a FlatView held in chunks answers lookup, at, slice and ranges as the one made from the array", () => {
    fc.assert(
      fc.property(rangesArb, (ranges) => {
        const fromChunks = new FlatView(null, RangeChunks.of(ranges));
        const fromArray = new FlatView(null, ranges);
        expect(fromChunks.length).toBe(ranges.length);
        for (const addr of probes(ranges)) expect(fromChunks.lookup(addr)).toBe(fromArray.lookup(addr));
        for (let i = 0; i <= ranges.length; i++) expect(fromChunks.at(i)).toBe(ranges[i]);
        expect(fromChunks.slice(1, ranges.length - 1)).toEqual(ranges.slice(1, ranges.length - 1));
        expect(fromChunks.ranges).toEqual(ranges);
      }),
      { numRuns: 100 },
    );
  });
});
