import { type FlatRange, getFlatViewRoot, renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, MemtopoError, SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AddressSpace, MemorySystem } from "../../src/index.js";

// While no view is cached the table records no change for the commit to walk (a machine file's regions are
// added before any address space exists). A space created inside that transaction gets a view of the tree as
// it is then, and the commit renders it again (changes recorded before it predate it). The full render stays
// the oracle: at every topology commit (a listener's `commit`), each space's view equals a from-scratch render
// of its root. Between commits views rightly wait (a change under a disabled container schedules none).

const unit = 0x100n;

const stepArb = fc.record({
  kind: fc.constantFrom("container", "io", "ram", "rom", "alias"),
  size: fc.oneof(
    fc.bigInt({ min: 1n, max: 0x20n }).map((x) => x * unit),
    fc.constant(SIZE_2_64),
  ),
  parent: fc.nat(),
  addr: fc.bigInt({ min: 0n, max: 0x30n }).map((x) => x * unit),
  priority: fc.integer({ min: -1, max: 2 }),
  target: fc.nat(),
  /** Before this step, a space on the region of this index (when it exists); -1: none. */
  space: fc.integer({ min: -1, max: 12 }),
  /** Then this change to the region of index `target` (after any space above). */
  change: fc.constantFrom("none", "disable", "enable", "address", "remove"),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

const plain = (ranges: readonly FlatRange[]) =>
  JSON.stringify(
    ranges.map((r) => [r.mr.id, r.start, r.size, r.offsetInRegion, r.readonly]),
    (_, v) => (typeof v === "bigint" ? v.toString(16) : v),
  );

function mismatches(sys: MemorySystem, spaces: readonly AddressSpace[]): string[] {
  const out: string[] = [];
  for (const as of spaces) {
    const full = renderFlatView(getFlatViewRoot(as.root), { dirtyLogMask: (mr) => sys.dirtyLogMask(mr) });
    if (plain(as.currentMap.ranges) !== plain(full.ranges)) out.push(`${as.name} differs from its full render`);
  }
  return out;
}

function apply(all: readonly MemoryRegion[], s: Step, value: bigint): void {
  const x = all[s.target % all.length]!;
  if (s.change === "disable") x.setEnabled(false);
  else if (s.change === "enable") x.setEnabled(true);
  else if (s.change === "address") x.setAddress(value);
  else if (s.change === "remove" && x.container !== null) x.container.delSubregion(x);
}

describe("spaces created inside the transaction that builds their tree (renderFlatView is the oracle)", () => {
  it("each space's view is its root's full render at the commit and after later commits", () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.array(stepArb, { maxLength: 10 }),
        (steps, later) => {
          const sys = new MemorySystem();
          const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
          const all: MemoryRegion[] = [root];
          const spaces: AddressSpace[] = [];
          const found: string[] = [];
          // The listener's own space, on a root of its own, exists before the transaction: it sees every commit.
          const probe = sys.createAddressSpace("probe", new MemoryRegion(sys, { kind: "ram", name: "p", size: unit }));
          sys.registerListener({ commit: () => found.push(mismatches(sys, spaces).join("; ")) }, probe);
          sys.begin();
          for (const [i, s] of steps.entries()) {
            try {
              if (s.space >= 0 && s.space < all.length) spaces.push(sys.createAddressSpace(`as${i}`, all[s.space]!));
              let mr: MemoryRegion;
              if (s.kind === "alias") {
                const target = all[s.target % all.length]!;
                const size = s.size > target.size ? target.size : s.size;
                mr = new MemoryRegion(sys, { kind: "alias", name: `a${i}`, size, target, offset: 0n });
              } else {
                mr = new MemoryRegion(sys, { kind: s.kind, name: `${s.kind[0]}${i}`, size: s.size });
              }
              all.push(mr);
              const parents = all.filter((p) => p !== mr && (p.kind === "container" || p.kind === "io"));
              parents[s.parent % parents.length]!.addSubregionOverlap(s.addr, mr, s.priority);
              apply(all, s, s.addr);
            } catch (e) {
              if (!(e instanceof MemtopoError)) throw e;
            }
          }
          sys.commit();
          for (const s of later) {
            sys.begin();
            try {
              apply(all, s, s.addr);
            } catch (e) {
              if (!(e instanceof MemtopoError)) throw e;
            }
            sys.commit();
          }
          expect(found.filter((f) => f !== "")).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });
});
