import { FlatView, getFlatViewRoot, renderFlatView } from "@memtopo/flatview";
import type { MemoryRegion } from "@memtopo/region-tree";

/**
 * QEMU's table of views (`flat_views`): resolved view root → FlatView, so that address
 * spaces whose roots resolve to the same region share one view object. The key null holds
 * the permanent empty view, which every reset keeps.
 */
export class FlatViews {
  readonly empty = new FlatView(null, []);
  #views = new Map<MemoryRegion | null, FlatView>([[null, this.empty]]);
  readonly #dirtyLogMask: (mr: MemoryRegion) => number;

  constructor(dirtyLogMask: (mr: MemoryRegion) => number) {
    this.#dirtyLogMask = dirtyLogMask;
  }

  /**
   * `address_space_update_topology`: the cached view of the resolved root (inside an open
   * transaction it may predate pending changes, as in QEMU), else a render now, cached too.
   */
  viewFor(root: MemoryRegion | null): FlatView {
    const key = getFlatViewRoot(root);
    let view = this.#views.get(key);
    if (view === undefined) {
      view = renderFlatView(key, { dirtyLogMask: this.#dirtyLogMask });
      this.#views.set(key, view);
    }
    return view;
  }

  /**
   * `flatviews_reset` at a topology commit: every view is dropped and one new view is
   * rendered per distinct resolved root of `roots` (spaces in creation order).
   */
  reset(roots: readonly (MemoryRegion | null)[]): FlatView[] {
    this.#views = new Map([[null, this.empty]]);
    return roots.map((root) => this.viewFor(root));
  }
}
