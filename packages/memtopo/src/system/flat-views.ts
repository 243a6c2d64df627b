import {
  type AddrWindow,
  coalesce,
  FlatView,
  getFlatViewRoot,
  regionWindows,
  renderFlatView,
  rerenderFlatView,
} from "@memtopo/flatview";
import type { MemoryRegion } from "@memtopo/region-tree";

interface Entry {
  readonly view: FlatView;
  /** The root's `addr` when rendered: it shifts the view but schedules nothing (§10.14). */
  readonly rootAddr: bigint;
  readonly maskState: number;
}

/**
 * QEMU's table of views (resolved root → FlatView), kept incrementally. QEMU renders
 * every view from scratch at every topology commit; this table renders again only the
 * windows where a changed region can show (recorded before each change, and looked up
 * again after it) and reuses views nothing touched. A view is rendered in full when its
 * root is new, its root's `addr` moved, the dirty-log masks changed everywhere (global
 * tracking switched), or the paths to a changed region are too many to follow. The
 * result is always what a full render gives; tests hold the two together.
 *
 * Resolved roots of address spaces are cached too, and forgotten when a change touches
 * a region their resolution looked at.
 */
export class FlatViews {
  #entries = new Map<MemoryRegion | null, Entry>();
  /** Per view root: windows to render again, or null for the whole view. */
  readonly #pending = new Map<MemoryRegion, AddrWindow[] | null>();
  readonly #changed = new Set<MemoryRegion>();
  /**
   * Every region some view root reaches downward, or once reached (a superset, which is
   * all the window walk needs to skip dead ends such as the many bus-master aliases of
   * `system`): grown when a view is rendered in full and when a region joins a container
   * in it, never shrunk.
   */
  readonly #reached = new Set<MemoryRegion>();
  readonly #mayLead = (x: MemoryRegion): boolean => this.#reached.has(x);
  /** Regions announced by `willChange` whose change has not yet been reported done. */
  #inFlight: MemoryRegion[] = [];
  /** Cached `getFlatViewRoot` per address-space root. */
  readonly #resolved = new Map<MemoryRegion, MemoryRegion | null>();
  /** For each region a cached resolution looked at, the roots whose resolution must be forgotten when it changes. */
  readonly #dependents = new Map<MemoryRegion, Set<MemoryRegion>>();
  readonly #render: (root: MemoryRegion | null) => FlatView;
  readonly #rerender: (old: FlatView, windows: AddrWindow[]) => FlatView;
  readonly #maskState: () => number;
  readonly empty = new FlatView(null, []);

  /**
   * `dirtyLogMask` is QEMU's `memory_region_get_dirty_log_mask`; `maskState` changes
   * whenever that function may give other values for every region at once (global
   * dirty tracking switched), which makes every view render in full.
   */
  constructor(dirtyLogMask: (mr: MemoryRegion) => number, maskState: () => number) {
    this.#maskState = maskState;
    this.#entries.set(null, { view: this.empty, rootAddr: 0n, maskState: 0 });
    this.#render = (root) => renderFlatView(root, { dirtyLogMask });
    this.#rerender = (old, windows) => rerenderFlatView(old, windows, { dirtyLogMask });
  }

  /** Before `mr` changes: remember where it rendered in every current view. */
  willChange(mr: MemoryRegion): void {
    this.#changed.add(mr);
    this.#inFlight.push(mr);
    this.#touch(mr);
    if (mr.container !== null) this.#touch(mr.container);
    this.#addWindows(mr);
  }

  /** After the change: a region's new container may resolve differently now (a child was added). */
  didChange(): void {
    for (const mr of this.#inFlight) {
      if (mr.container === null) continue;
      this.#touch(mr.container);
      if (this.#reached.has(mr.container)) this.#reach(mr);
    }
    this.#inFlight = [];
  }

  /** Adds `from` and everything below it (subregions, alias targets) to the reached set. */
  #reach(from: MemoryRegion): void {
    const stack = [from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (this.#reached.has(x)) continue;
      this.#reached.add(x);
      if (x.alias !== null) stack.push(x.alias);
      for (const s of x.subregions) stack.push(s);
    }
  }

  /** Adds where `mr` renders now, in every cached view, to what those views must render again. */
  #addWindows(mr: MemoryRegion): void {
    const found = regionWindows(mr, this.#entries, this.#mayLead);
    for (const key of this.#entries.keys()) {
      if (key === null) continue;
      const pending = this.#pending.get(key);
      if (pending === null) continue;
      const windows = found === null ? null : found.get(key);
      if (windows === null) this.#pending.set(key, null);
      else if (windows !== undefined) this.#pending.set(key, pending === undefined ? windows : pending.concat(windows));
    }
  }

  /** QEMU's `memory_region_get_flatview_root`, cached per address-space root. */
  resolve(asRoot: MemoryRegion | null): MemoryRegion | null {
    if (asRoot === null) return null;
    let key = this.#resolved.get(asRoot);
    if (key === undefined) {
      key = getFlatViewRoot(asRoot);
      this.#resolved.set(asRoot, key);
      for (const r of resolutionPath(asRoot)) {
        const roots = this.#dependents.get(r);
        if (roots === undefined) this.#dependents.set(r, new Set([asRoot]));
        else roots.add(asRoot);
      }
    }
    return key;
  }

  /** A change to `mr` may change how any root whose resolution looked at `mr` resolves. */
  #touch(mr: MemoryRegion): void {
    const roots = this.#dependents.get(mr);
    if (roots === undefined) return;
    for (const root of roots) this.#resolved.delete(root);
    this.#dependents.delete(mr);
  }

  /** The view of `key` now: cached, re-rendered where something changed, or rendered. */
  viewOf(key: MemoryRegion | null): FlatView {
    const entry = this.#entries.get(key);
    if (key === null) return entry!.view;
    if (entry === undefined || entry.rootAddr !== key.addr || entry.maskState !== this.#maskState()) {
      return this.#store(key, this.#render(key));
    }
    const windows = this.#pending.get(key);
    if (windows === undefined) return entry.view;
    if (windows === null) return this.#store(key, this.#render(key));
    return this.#store(key, this.#rerender(entry.view, coalesce(windows)), false);
  }

  /**
   * `address_space_update_topology` for a new space: the cached view of the resolved root
   * (inside an open transaction it may predate pending changes, as in QEMU), else a render
   * now, cached too.
   */
  viewFor(root: MemoryRegion | null): FlatView {
    const key = this.resolve(root);
    return this.#entries.get(key)?.view ?? this.#store(key, this.#render(key as MemoryRegion));
  }

  /**
   * `flatviews_reset` at a topology commit: the view of every distinct resolved root of
   * `roots` (spaces in creation order), and those views become the whole table. Views whose
   * root nothing touched come back as the same objects; the caller tells listeners what
   * QEMU's fresh, equal view would have told them.
   */
  reset(roots: readonly (MemoryRegion | null)[]): FlatView[] {
    for (const mr of this.#changed) this.#addWindows(mr);
    this.#changed.clear();
    const views = new Map<MemoryRegion | null, FlatView>([[null, this.empty]]);
    const out = roots.map((root) => {
      const key = this.resolve(root);
      let view = views.get(key);
      if (view === undefined) {
        view = this.viewOf(key);
        views.set(key, view);
      }
      return view;
    });
    const next = new Map<MemoryRegion | null, Entry>();
    for (const key of views.keys()) next.set(key, this.#entries.get(key)!);
    this.#entries = next;
    this.#pending.clear();
    return out;
  }

  #store(key: MemoryRegion | null, view: FlatView, full = true): FlatView {
    if (full && key !== null) this.#reach(key);
    this.#entries.set(key, { view, rootAddr: key?.addr ?? 0n, maskState: this.#maskState() });
    this.#pending.delete(key as MemoryRegion);
    return view;
  }
}

/** The regions `getFlatViewRoot` looks at for `root`: the chain it follows and the regions it counts. */
function resolutionPath(root: MemoryRegion): MemoryRegion[] {
  const path: MemoryRegion[] = [];
  let mr: MemoryRegion | null = root;
  while (mr !== null) {
    path.push(mr);
    if (!mr.enabled) break;
    if (mr.alias !== null) {
      // The target's size decides whether the alias is skipped, even when it is not.
      path.push(mr.alias);
      mr = mr.aliasOffset === 0n && mr.size >= mr.alias.size ? mr.alias : null;
    } else if (!mr.terminates) {
      path.push(...mr.subregions);
      const enabled: MemoryRegion[] = mr.subregions.filter((s) => s.enabled);
      const only: MemoryRegion | null = enabled.length === 1 ? enabled[0]! : null;
      mr = only !== null && only.addr === 0n && mr.size >= only.size ? only : null;
    } else {
      mr = null;
    }
  }
  return path;
}
