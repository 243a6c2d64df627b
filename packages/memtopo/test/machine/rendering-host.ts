import { type FlatView, getFlatViewRoot, renderFlatView } from "@memtopo/flatview";
import { type MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import type { MachineHost, MtreeAddressSpace } from "../../src/index.js";

export interface TestAddressSpace extends MtreeAddressSpace {
  currentMap: FlatView;
}

/**
 * A minimal stand-in for the MemorySystem in tests of loading and printing: at the
 * outermost commit it re-renders every space, one FlatView per resolved view root,
 * so spaces that resolve to the same root share the view object as in QEMU.
 */
export class RenderingHost extends StandaloneHost implements MachineHost<TestAddressSpace> {
  readonly addressSpaces: TestAddressSpace[] = [];

  createAddressSpace(name: string, root: MemoryRegion): TestAddressSpace {
    const as: TestAddressSpace = { name, root, currentMap: renderFlatView(root) };
    this.addressSpaces.push(as);
    this.render();
    return as;
  }

  override commit(): void {
    super.commit();
    if (this.depth === 0) this.render();
  }

  render(): void {
    const views = new Map<MemoryRegion | null, FlatView>();
    for (const as of this.addressSpaces) {
      const key = getFlatViewRoot(as.root);
      let view = views.get(key);
      if (view === undefined) {
        view = renderFlatView(as.root);
        views.set(key, view);
      }
      as.currentMap = view;
    }
  }
}
