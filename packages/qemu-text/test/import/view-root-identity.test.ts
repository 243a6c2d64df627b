import { MemoryRegion, type MemoryRegionInit, SIZE_2_64 } from "@memtopo/region-tree";
import { loadMachine, MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// QEMU's `info mtree -f` walks the address spaces in creation order and groups them by FlatView, the view of the
// region each space's root resolves to (memory_region_get_flatview_root): two roots that resolve to distinct regions
// of one name render two views. Bus-master containers of one name, each aliasing its own `sys` (two containers named
// alike, each holding a `ram`), print the same ` AS` line under either view: which block is which is told by the
// view a root renders, not by the name of the root it resolves to.

/**
 * Two look-alike `sys` containers (rams of different sizes, and a uart that keeps each the view's root), a
 * bus-master container and space on each; `bFirst` creates the larger ram's space first.
 */
function lookAlikes(bFirst: boolean): { sys: MemorySystem; roots: MemoryRegion[] } {
  const sys = new MemorySystem();
  const mr = (init: { kind: MemoryRegionInit["kind"]; size: bigint; name?: string | null } & Record<string, unknown>) =>
    new MemoryRegion(sys, { name: null, ...init } as MemoryRegionInit);
  const busMaster = (target: MemoryRegion): MemoryRegion => {
    const bm = mr({ kind: "container", name: "bus master container", size: SIZE_2_64 });
    bm.addSubregion(0n, mr({ kind: "alias", name: "bus master", size: SIZE_2_64, target, offset: 0n }));
    return bm;
  };
  const sysA = mr({ kind: "container", name: "sys", size: SIZE_2_64 });
  sysA.addSubregion(0n, mr({ kind: "ram", name: "ram", size: 0x1000n }));
  sysA.addSubregion(0x10000n, mr({ kind: "io", name: "uart", size: 0x8n }));
  const sysB = mr({ kind: "container", name: "sys", size: SIZE_2_64 });
  sysB.addSubregion(0n, mr({ kind: "ram", name: "ram", size: 0x2000n }));
  sysB.addSubregion(0x10000n, mr({ kind: "io", name: "uart", size: 0x8n }));
  const bmA = busMaster(sysA);
  const bmB = busMaster(sysB);
  if (bFirst) {
    sys.createAddressSpace("dev", bmB);
    sys.createAddressSpace("dev", bmA);
  } else {
    sys.createAddressSpace("dev", bmA);
    sys.createAddressSpace("dev", bmB);
  }
  return { sys, roots: [bmA, bmB] };
}

describe("a FlatView is the view of the region a space's root resolves to (memory_region_get_flatview_root)", () => {
  // The smaller `ram` is printed within the larger one's range, so a root is told apart by all it renders too.
  for (const bFirst of [true, false]) {
    for (const treeAFirst of [true, false]) {
      const created = bFirst ? "the larger ram's space created first" : "the smaller ram's space created first";
      const printed = treeAFirst ? "the smaller ram's block printed first" : "the larger ram's block printed first";
      it(`look-alike roots resolving to distinct regions of one name are told apart by their views (${created}, ${printed})`, () => {
        const { sys, roots } = lookAlikes(bFirst);
        // QEMU prints the tree's blocks in hash-table order, whatever the creation order.
        const tree = printMtree(sys.addressSpaces, {
          disabled: true,
          order: treeAFirst ? roots : [...roots].reverse(),
        });
        const flat = printMtreeFlat(sys.addressSpaces);
        // The texts QEMU would print hold two views of a root named `sys`, each with one ` AS "dev"` line.
        expect(flat.match(/Root memory region: sys\n/g)).toHaveLength(2);
        const back = loadMachine(importQemu({ tree, flat }).machine);
        expect(printMtreeFlat(back.addressSpaces)).toBe(flat);
        expect(printMtree(back.addressSpaces, { disabled: true, order: back.mtreeOrder })).toBe(tree);
      });
    }
  }
});
