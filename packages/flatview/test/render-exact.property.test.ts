import { MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FlatRange } from "../src/flat-range.js";
import { getFlatViewRoot, renderWindow, simplify } from "../src/index.js";
import { ExactRenderScratch, renderWindowExact } from "../src/render-exact.js";
import { buildTree, type RegionStep } from "./arbitrary-tree.js";

// The window render in doubles must give exactly what the bigint render gives (QEMU's
// render_memory_region clipped to the window, then flatview_simplify), or decline. Addresses, sizes
// and alias offsets sit around 0, 2^53 and 2^64, so that sums cross 2^53 and alias offsets make bases
// negative: the doubles are exact only below 2^53, and every step that would leave that range must
// make it decline rather than round.

const P53 = 1n << 53n;
const unit = 0x100n;
// Odd steps too: multiples of 0x100 alone stay exact in doubles far beyond 2^53 and would hide a rounding.
const near = (anchors: bigint[]) =>
  fc
    .tuple(fc.constantFrom(...anchors), fc.integer({ min: -8, max: 8 }), fc.integer({ min: -3, max: 3 }))
    .map(([a, k, j]) => a + BigInt(k) * unit + BigInt(j))
    .filter((x) => x >= 0n && x < SIZE_2_64);

const stepArb: fc.Arbitrary<RegionStep> = fc.record({
  kind: fc.constantFrom("container", "io", "ram", "rom", "alias"),
  size: fc.oneof(
    fc.bigInt({ min: 1n, max: 0x20n }).map((x) => x * unit),
    near([P53, P53 / 2n]).filter((x) => x > 0n),
    fc.constant(SIZE_2_64),
  ),
  parent: fc.nat(),
  toRoot: fc.boolean(),
  addr: near([0n, 0x1000n, P53, P53 / 2n, SIZE_2_64]),
  priority: fc.integer({ min: -2, max: 2 }),
  overlap: fc.boolean(),
  target: fc.nat(),
  aliasOffset: near([0n, 0x800n, P53, SIZE_2_64 - P53]),
  enabled: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
  readonly: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  nonvolatile: fc.integer({ min: 0, max: 9 }).map((n) => n < 1),
});

const plain = (r: FlatRange) => ({ ...r, mr: r.mr.id });

describe("renderWindowExact: the window render in doubles equals the bigint one, or declines", () => {
  it("on random trees around 2^53 and 2^64 and random windows below 2^53", () => {
    let exact = 0;
    let declined = 0;
    let nonEmpty = 0;
    const scratch = new ExactRenderScratch();
    const mask = (mr: MemoryRegion) => mr.dirtyLogMask;
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 25 }),
        fc.array(near([0n, 0x1000n, P53 / 2n, P53]), { minLength: 2, maxLength: 2 }),
        (steps, [x, y]) => {
          const { root } = buildTree(steps);
          const viewRoot = getFlatViewRoot(root);
          if (viewRoot === null) return;
          const a = x! < y! ? x! : y!;
          const b = x! < y! ? y! : x!;
          if (a === b || b > P53) return;
          const want = simplify(renderWindow(viewRoot, a, b, mask));
          const got: FlatRange[] = [];
          if (renderWindowExact(scratch, viewRoot, Number(a), Number(b), mask, got)) {
            exact++;
            if (want.length > 0) nonEmpty++;
            expect(got.map(plain)).toEqual(want.map(plain));
          } else {
            declined++;
            expect(got).toEqual([]);
          }
        },
      ),
      { numRuns: 2000 },
    );
    // Both ways were taken, and the doubles rendered something often enough to be held to the oracle.
    expect(exact).toBeGreaterThan(200);
    expect(nonEmpty).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(10);
  });

  it("appends after what `out` holds, merging with its last range as flatview_simplify would", () => {
    let joined = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 25 }), near([0x1000n, P53 / 2n]), (steps, cut) => {
        const { root } = buildTree(steps);
        const viewRoot = getFlatViewRoot(root);
        if (viewRoot === null || cut <= 0n || cut >= P53) return;
        const mask = (mr: MemoryRegion) => mr.dirtyLogMask;
        const want = simplify(renderWindow(viewRoot, 0n, P53, mask));
        const got = simplify(renderWindow(viewRoot, 0n, cut, mask));
        const before = got.length;
        if (!renderWindowExact(new ExactRenderScratch(), viewRoot, Number(cut), 2 ** 53, mask, got)) return;
        if (before > 0 && got.length < before + 1) joined++;
        expect(got.map(plain)).toEqual(want.map(plain));
      }),
      { numRuns: 1000 },
    );
    expect(joined).toBeGreaterThan(20);
  });

  it("declines an alias whose target address plus offset passes 2^53 (the sum would round; found by the property above)", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const target = new MemoryRegion(host, { kind: "container", name: "t", size: P53 });
    root.addSubregion(P53 - 256n, target);
    target.addSubregion(0n, new MemoryRegion(host, { kind: "io", name: "dev", size: P53 }));
    const alias = new MemoryRegion(host, { kind: "alias", name: "a", size: P53 - 512n, target, offset: 509n });
    root.addSubregionOverlap(P53 / 2n, alias, 1);
    const mask = (mr: MemoryRegion) => mr.dirtyLogMask;
    const want = simplify(renderWindow(root, 0x1000n, P53, mask));
    const got: FlatRange[] = [];
    const exact = renderWindowExact(new ExactRenderScratch(), root, 0x1000, 2 ** 53, mask, got);
    if (exact) expect(got.map(plain)).toEqual(want.map(plain));
    expect(want.find((r) => r.start === P53 / 2n)?.offsetInRegion).toBe(509n);
  });
});
