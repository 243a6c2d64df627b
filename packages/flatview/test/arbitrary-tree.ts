import { MemoryRegion, RegionTreeError, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";

/**
 * A recipe for a random tree: regions are created in order, each optionally added
 * under an earlier container-like region (or left parentless, to be an alias target).
 * Steps that the tree rejects (cycles, windows past 2^64) are skipped, as a user's
 * failed call would be.
 */
export interface RegionStep {
  kind: "container" | "io" | "ram" | "rom" | "alias";
  size: bigint;
  parent: number;
  /** Add directly under the root (keeps large trees wide rather than deep). */
  toRoot: boolean;
  addr: bigint;
  priority: number;
  overlap: boolean;
  target: number;
  aliasOffset: bigint;
  enabled: boolean;
  readonly: boolean;
  nonvolatile: boolean;
}

const unit = 0x100n;

function stepArb(top: boolean, slots: bigint): fc.Arbitrary<RegionStep> {
  const addr = top
    ? fc.oneof(
        fc.bigInt({ min: 0n, max: slots }).map((x) => x * unit),
        fc.bigInt({ min: 0n, max: slots }).map((x) => SIZE_2_64 - x * unit),
      )
    : fc.bigInt({ min: 0n, max: slots }).map((x) => x * unit);
  return fc.record({
    kind: fc.constantFrom("container", "io", "ram", "rom", "alias"),
    size:
      slots > 0x40n
        ? fc.bigInt({ min: 1n, max: 0x300n })
        : fc.oneof(
            fc.bigInt({ min: 0n, max: 0x20n }).map((x) => x * unit),
            fc.bigInt({ min: 1n, max: 0x2000n }),
            fc.constant(SIZE_2_64),
          ),
    parent: fc.nat(),
    toRoot: slots > 0x40n ? fc.boolean() : fc.constant(false),
    addr,
    priority: fc.integer({ min: -2, max: 2 }),
    overlap: fc.boolean(),
    target: fc.nat(),
    aliasOffset: fc.bigInt({ min: 0n, max: 0x20n }).map((x) => x * unit),
    enabled: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
    readonly: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    nonvolatile: fc.integer({ min: 0, max: 9 }).map((n) => n < 1),
  });
}

/** Small trees over a small space by default; `large` spreads ~1000 regions over a wider one. */
export const treeRecipe = (top = false, large = false) =>
  large
    ? fc.array(stepArb(top, 0x4000n), { minLength: 800, maxLength: 1200 })
    : fc.array(stepArb(top, 0x40n), { minLength: 1, maxLength: 30 });

export function buildTree(steps: readonly RegionStep[]): {
  host: StandaloneHost;
  root: MemoryRegion;
  all: MemoryRegion[];
} {
  const host = new StandaloneHost();
  const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
  const all: MemoryRegion[] = [root];
  steps.forEach((s, i) => {
    let mr: MemoryRegion;
    try {
      if (s.kind === "alias") {
        const target = all[s.target % all.length]!;
        const size = s.size > target.size ? target.size : s.size;
        const offset = s.aliasOffset + size > target.size ? 0n : s.aliasOffset;
        mr = new MemoryRegion(host, { kind: "alias", name: `a${i}`, size, target, offset });
      } else {
        mr = new MemoryRegion(host, { kind: s.kind, name: `${s.kind[0]}${i}`, size: s.size });
      }
    } catch (e) {
      if (e instanceof RegionTreeError) return;
      throw e;
    }
    mr.setReadonly(s.readonly || mr.readonly);
    mr.setNonvolatile(s.nonvolatile);
    mr.setEnabled(s.enabled);
    all.push(mr);
    // Every fourth region stays parentless: a pure alias target.
    if (s.parent % 4 === 3) return;
    const parents = all.filter((p) => p !== mr && p.kind !== "ram" && p.kind !== "rom");
    const parent = s.toRoot ? root : parents[s.parent % parents.length]!;
    try {
      if (s.overlap) parent.addSubregionOverlap(s.addr, mr, s.priority);
      else parent.addSubregion(s.addr, mr);
    } catch (e) {
      if (!(e instanceof RegionTreeError)) throw e;
    }
  });
  return { host, root, all };
}
