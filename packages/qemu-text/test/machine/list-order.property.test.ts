import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { type ListedSibling, siblingListOrder } from "../../src/import/list-order.js";

interface Sibling extends ListedSibling {
  readonly id: number;
  readonly before: Set<Sibling>;
}

// The oracle is the rule read literally: within each priority (highest first), take the first sibling in printed
// order that no pending sibling must precede (it wins an overlap from it, or sits at its address earlier in print);
// if every pending one waits (a cycle), take the first pending one and report the cycle.
function literalOrder(printed: readonly Sibling[], onCycle: () => void): Sibling[] {
  const out: Sibling[] = [];
  const groups = [...new Set(printed.map((c) => c.priority))].sort((a, b) => b - a);
  for (const p of groups) {
    const group = printed.filter((c) => c.priority === p);
    const pending = new Set(group);
    while (pending.size > 0) {
      const mustPrecede = (o: Sibling, c: Sibling): boolean =>
        o.before.has(c) || (o.addr === c.addr && group.indexOf(o) < group.indexOf(c));
      const free = group.find((c) => pending.has(c) && ![...pending].some((o) => o !== c && mustPrecede(o, c)));
      const next = free ?? group.find((c) => pending.has(c))!;
      if (free === undefined) onCycle();
      pending.delete(next);
      out.push(next);
    }
  }
  return out;
}

const siblingsArb = fc
  .array(fc.record({ priority: fc.integer({ min: 0, max: 2 }), addr: fc.integer({ min: 0, max: 3 }) }), {
    minLength: 1,
    maxLength: 14,
  })
  .chain((specs) =>
    fc.tuple(
      fc.constant(specs),
      fc.array(fc.tuple(fc.nat(specs.length - 1), fc.nat(specs.length - 1)), { maxLength: specs.length * 2 }),
    ),
  )
  .map(([specs, edges]) => {
    const siblings: Sibling[] = specs.map((s, id) => ({
      id,
      priority: s.priority,
      addr: BigInt(s.addr),
      before: new Set(),
    }));
    for (const [from, to] of edges) siblings[from]!.before.add(siblings[to]!);
    return siblings;
  });

describe("a container's list order from its printed children", () => {
  test.prop([siblingsArb], { numRuns: 3000 })(
    "siblingListOrder gives the literal rule's order and reports as many cycles",
    (siblings) => {
      let cycles = 0;
      let literalCycles = 0;
      const got = siblingListOrder(siblings, () => cycles++).map((s) => s.id);
      const want = literalOrder(siblings, () => literalCycles++).map((s) => s.id);
      expect(got).toEqual(want);
      expect(cycles).toBe(literalCycles);
    },
  );
});
