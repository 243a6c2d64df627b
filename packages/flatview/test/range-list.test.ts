import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlatRange } from "../src/flat-range.js";
import { RangeList } from "../src/range-list.js";
import { bareRange } from "./bare-range.js";

const range = bareRange;

describe("RangeList (the renderer's chunked view) behaves like a sorted array", () => {
  it("seek, walk and insert-in-gap agree with a plain array on random fills", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ start: fc.bigInt({ min: 0n, max: 4000n }), size: fc.bigInt({ min: 1n, max: 40n }) }), {
          maxLength: 200,
        }),
        fc.integer({ min: 2, max: 8 }),
        (fills, maxChunk) => {
          const list = new RangeList(maxChunk);
          const oracle: FlatRange[] = [];
          for (const { start, size } of fills) {
            // Fill the gaps of [start, start+size) in both, the way the renderer does.
            let pos = start;
            const end = start + size;
            const cursor = list.seek(pos);
            for (let r = list.at(cursor); r !== undefined && pos < end; list.next(cursor), r = list.at(cursor)) {
              if (pos < r.start) {
                const gapEnd = r.start < end ? r.start : end;
                list.insert(cursor, range(pos, gapEnd - pos));
                pos = gapEnd;
              }
              const rEnd = r.start + r.size;
              pos = rEnd < end ? (rEnd > pos ? rEnd : pos) : end;
            }
            if (pos < end) list.insert(cursor, range(pos, end - pos));

            let p = start;
            for (let i = 0; i <= oracle.length && p < end; i++) {
              const r = oracle[i];
              if (r === undefined || r.start >= end) {
                oracle.splice(i, 0, range(p, end - p));
                p = end;
                break;
              }
              if (r.start + r.size <= p) continue;
              if (p < r.start) {
                oracle.splice(i, 0, range(p, r.start - p));
                i++;
              }
              p = r.start + r.size;
            }
          }
          const got = list.toArray().map((r) => [r.start, r.size]);
          expect(got).toEqual(oracle.map((r) => [r.start, r.size]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
