import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { renderFlatView, rerenderFlatView } from "../src/index.js";

// QEMU's render_memory_region recurses, bounded by C's stack; memtopo's trees are built by any
// caller, so depth is user-sized data and rendering must not spend the JS stack on it (one
// recursive call per level overflows it somewhere around 10 000 levels).

/**
 * `depth` nested containers, each one placing the next at offset 1, with 4 KiB of RAM at the
 * bottom; the root also maps the whole chain a second time through an alias at 2^32.
 * Built top down, so that each addSubregion's cycle check sees only a leaf.
 */
function deepChain(depth: number) {
  const host = new StandaloneHost();
  const root = new MemoryRegion(host, { kind: "container", name: "root", size: 1n << 40n });
  const top = new MemoryRegion(host, { kind: "container", name: "level-0", size: 1n << 30n });
  root.addSubregion(0n, top);
  let parent = top;
  for (let i = 1; i < depth; i++) {
    const next = new MemoryRegion(host, { kind: "container", name: `level-${i}`, size: 1n << 30n });
    parent.addSubregion(1n, next);
    parent = next;
  }
  const ram = new MemoryRegion(host, { kind: "ram", name: "bottom", size: 0x1000n });
  parent.addSubregion(1n, ram);
  const again = new MemoryRegion(host, { kind: "alias", name: "again", size: 1n << 30n, target: top, offset: 0n });
  root.addSubregion(1n << 32n, again);
  return { root, ram };
}

describe("rendering a tree of any depth (no recursion on user-sized data)", () => {
  it.each([9_999, 10_001, 100_000])(
    "a chain of %i containers renders its bottom RAM at the sum of the offsets, directly and through an alias",
    (depth) => {
      const { root, ram } = deepChain(depth);
      const view = renderFlatView(root);
      expect(view.ranges.map((r) => [r.mr, r.start, r.size, r.offsetInRegion])).toEqual([
        [ram, BigInt(depth), 0x1000n, 0n],
        [ram, (1n << 32n) + BigInt(depth), 0x1000n, 0n],
      ]);
      // An incremental commit renders a window again and splices it in: the same walk of every level.
      const window = { start: BigInt(depth) + 0x800n, end: 1n << 33n };
      expect(rerenderFlatView(view, [window]).ranges).toEqual(view.ranges);
    },
  );
});
