import { type FlatRange, getFlatViewRoot, renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, MemtopoError, SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AddressSpace, MemorySystem } from "../../src/index.js";

// Commits render again only the windows a change can reach and keep untouched
// views; the full renderer stays the oracle. After every outermost commit, each address
// space's view must equal a from-scratch render of its root, and spaces whose roots
// resolve alike must share one view object.

const unit = 0x100n;
const kinds = ["container", "io", "ram", "rom", "alias"] as const;

const stepArb = fc.record({
  kind: fc.constantFrom(...kinds),
  size: fc.oneof(
    fc.bigInt({ min: 0n, max: 0x20n }).map((x) => x * unit),
    fc.constant(SIZE_2_64),
  ),
  parent: fc.nat(),
  addr: fc.bigInt({ min: 0n, max: 0x30n }).map((x) => x * unit),
  priority: fc.integer({ min: -1, max: 2 }),
  target: fc.nat(),
  offset: fc.bigInt({ min: 0n, max: 0x10n }).map((x) => x * unit),
});

const mutationArb = fc.record({
  op: fc.constantFrom(
    "enable",
    "disable",
    "address",
    "size",
    "readonly",
    "aliasOffset",
    "move",
    "remove",
    "log",
    "unlog",
    "begin",
    "commit",
    "dirtyStart",
    "dirtyStop",
    "romd",
  ),
  a: fc.nat(),
  b: fc.nat(),
  value: fc.bigInt({ min: 0n, max: 0x40n }).map((x) => x * unit),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function build(steps: Step[]) {
  const sys = new MemorySystem({ accel: "kvm" });
  const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const all: MemoryRegion[] = [root];
  sys.begin();
  for (const [i, s] of steps.entries()) {
    try {
      let mr: MemoryRegion;
      if (s.kind === "alias") {
        const target = all[s.target % all.length]!;
        const size = s.size > target.size ? target.size : s.size;
        mr = new MemoryRegion(sys, {
          kind: "alias",
          name: `a${i}`,
          size,
          target,
          offset: s.offset + size > target.size ? 0n : s.offset,
        });
      } else if (s.kind === "io" && i % 5 === 0) {
        mr = new MemoryRegion(sys, { kind: "rom-device", name: `d${i}`, size: s.size, ops: {} });
      } else {
        mr = new MemoryRegion(sys, { kind: s.kind, name: `${s.kind[0]}${i}`, size: s.size });
      }
      all.push(mr);
      if (s.parent % 5 === 4) continue;
      const parents = all.filter((p) => p !== mr && (p.kind === "container" || p.kind === "io"));
      parents[s.parent % parents.length]!.addSubregionOverlap(s.addr, mr, s.priority);
    } catch (e) {
      if (!(e instanceof MemtopoError)) throw e;
    }
  }
  sys.commit();
  // Spaces on the root, on every third region (sub-containers, aliases, parentless targets).
  const spaces: AddressSpace[] = [sys.createAddressSpace("memory", root), sys.createAddressSpace("cpu-memory-0", root)];
  all.forEach((mr, i) => {
    if (i % 3 === 1) spaces.push(sys.createAddressSpace(`as${i}`, mr));
  });
  for (const as of spaces) sys.registerListener({ regionAdd() {}, regionDel() {} }, as);
  // Compare at the moment of each commit: afterwards the tree may change again without one
  // (a root's own addr, a child added under a disabled container), and views rightly wait.
  const check = { commits: 0, mismatches: [] as string[] };
  const text = (ranges: readonly FlatRange[]) =>
    JSON.stringify(plain(ranges), (_, v) => (typeof v === "bigint" ? v.toString(16) : v));
  sys.registerListener(
    {
      commit: () => {
        check.commits++;
        const byRoot = new Map<MemoryRegion | null, AddressSpace>();
        for (const as of spaces) {
          const key = getFlatViewRoot(as.root);
          const full = renderFlatView(key, { dirtyLogMask: (mr) => sys.dirtyLogMask(mr) });
          const got = text(as.currentMap.ranges);
          const want = text(full.ranges);
          if (got !== want) check.mismatches.push(`${as.name}: ${got} != ${want}`);
          const sharer = byRoot.get(key);
          if (sharer === undefined) byRoot.set(key, as);
          else if (sharer.currentMap !== as.currentMap) check.mismatches.push(`${as.name} does not share its view`);
        }
      },
    },
    spaces[0]!,
  );
  return { sys, all, check };
}

function apply(sys: MemorySystem, all: readonly MemoryRegion[], m: Mutation): void {
  const x = all[m.a % all.length]!;
  const y = all[m.b % all.length]!;
  switch (m.op) {
    case "enable":
      x.setEnabled(true);
      return;
    case "disable":
      x.setEnabled(false);
      return;
    case "address":
      x.setAddress(m.value);
      return;
    case "size":
      x.setSize(m.value);
      return;
    case "readonly":
      x.setReadonly(!x.readonly);
      return;
    case "aliasOffset":
      x.setAliasOffset(m.value);
      return;
    case "move":
      if (x.container !== null) x.container.delSubregion(x);
      y.addSubregionOverlap(m.value, x, Number(m.value % 3n) - 1);
      return;
    case "remove":
      if (x.container !== null) x.container.delSubregion(x);
      return;
    case "log":
      x.setLog(true);
      return;
    case "unlog":
      x.setLog(false);
      return;
    case "begin":
      sys.begin();
      return;
    case "commit":
      if (sys.depth > 0) sys.commit();
      return;
    case "dirtyStart":
      sys.startDirtyLog();
      return;
    case "dirtyStop":
      if (sys.globalDirtyTracking !== 0) sys.stopDirtyLog();
      return;
    case "romd":
      x.setRomdMode(!x.romdMode);
      return;
  }
}

const plain = (ranges: readonly FlatRange[]) =>
  ranges.map((r) => [
    r.mr.id,
    r.start,
    r.size,
    r.offsetInRegion,
    r.readonly,
    r.nonvolatile,
    r.romdMode,
    r.dirtyLogMask,
  ]);

describe("incremental views equal full renders (renderFlatView is the oracle)", () => {
  it("at every commit of random mutations, nested transactions, dirty-log switches and root moves", () => {
    let commits = 0;
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 25 }),
        fc.array(mutationArb, { maxLength: 30 }),
        (steps, mutations) => {
          const { sys, all, check } = build(steps);
          for (const m of mutations) {
            try {
              apply(sys, all, m);
            } catch (e) {
              if (!(e instanceof MemtopoError)) throw e;
            }
          }
          expect(check.mismatches).toEqual([]);
          commits += check.commits;
        },
      ),
      { numRuns: 1000 },
    );
    expect(commits).toBeGreaterThan(1000);
  });
});
