import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { forEachOf, OneOrMany } from "../src/one-or-many.js";

// The view table keeps its users per view, users per root and roots per region in OneOrMany maps, which hold a
// key's only value without a Set; the oracle is the Map of Sets they replaced, driven by the same operations.
type Op =
  | { readonly op: "add" | "delete"; readonly key: number; readonly value: number }
  | { readonly op: "take"; readonly key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("add", "delete"), key: fc.nat(4), value: fc.nat(5) }) as fc.Arbitrary<Op>,
  fc.record({ op: fc.constant("take"), key: fc.nat(4) }) as fc.Arbitrary<Op>,
);

const values = Array.from({ length: 6 }, (_, i) => ({ i }));

function sorted(items: Iterable<{ i: number }>): number[] {
  return [...items].map((v) => v.i).sort((a, b) => a - b);
}

describe("OneOrMany against a Map of Sets", () => {
  test.prop([fc.array(opArb, { maxLength: 60 })], { numRuns: 1000 })(
    "after any adds, deletes and takes, every key holds what the Map of Sets holds",
    (ops) => {
      const map = new OneOrMany<number, { i: number }>();
      const oracle = new Map<number, Set<{ i: number }>>();
      for (const o of ops) {
        if (o.op === "add") {
          map.add(o.key, values[o.value]!);
          const set = oracle.get(o.key) ?? new Set();
          set.add(values[o.value]!);
          oracle.set(o.key, set);
        } else if (o.op === "delete") {
          const empty = map.delete(o.key, values[o.value]!);
          const set = oracle.get(o.key);
          set?.delete(values[o.value]!);
          if (set?.size === 0) oracle.delete(o.key);
          expect(empty).toBe(!oracle.has(o.key));
        } else {
          const taken: { i: number }[] = [];
          forEachOf(map.take(o.key), (v) => taken.push(v));
          expect(sorted(taken)).toEqual(sorted(oracle.get(o.key) ?? []));
          oracle.delete(o.key);
        }
        for (let key = 0; key <= 4; key++) {
          expect(map.has(key)).toBe(oracle.has(key));
          const seen: { i: number }[] = [];
          map.forEach(key, (v) => seen.push(v));
          expect(sorted(seen)).toEqual(sorted(oracle.get(key) ?? []));
          expect(sorted(map.setOf(key))).toEqual(sorted(oracle.get(key) ?? []));
        }
        expect([...map.keys()].sort()).toEqual([...oracle.keys()].sort());
      }
    },
  );
});
