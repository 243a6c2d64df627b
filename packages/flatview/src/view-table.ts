import { BIG_EXACT_LIMIT, EXACT_LIMIT, type MemoryRegion, toDouble } from "@memtopo/region-tree";
import { ChangedRegions } from "./changed-regions.js";
import { FlatView } from "./flatview.js";
import { flatViewRootStep, getFlatViewRoot, rootChainChildren } from "./flatview-root.js";
import { forEachOf, OneOrMany } from "./one-or-many.js";
import { type AddrWindow, coalesce, seedWindows, type WindowSeed } from "./region-windows.js";
import { renderFlatView } from "./render.js";
import { ExactRenderScratch } from "./render-exact.js";
import { rerenderWithEdit, type ViewEdit } from "./rerender.js";

/** What a view is for: an address space, seen through its root. */
export interface ViewUser {
  readonly root: MemoryRegion | null;
}

const NO_REGIONS: readonly MemoryRegion[] = [];

/** More disjoint windows than this in one view at a commit: the view is rendered in full instead. */
const MAX_RERENDER_WINDOWS = 64;
/** Growth of the reached set below which it is never rebuilt (a rebuild walks every live view root). */
const COMPACT_SLACK = 64;

interface Entry {
  readonly view: FlatView;
  /** The root's `addr` when rendered: it shifts the view but schedules nothing (QEMU's `memory_region_set_address` on a region without a container). */
  readonly rootAddr: bigint;
  readonly maskState: number;
}

/**
 * QEMU's table of views (resolved root → FlatView, its `flat_views`), kept incrementally. QEMU renders
 * every view from scratch at every topology commit; this table renders again only the
 * windows where a changed region can show (before and after its change, walked at the commit
 * from where it was placed before) and reuses views nothing touched. A view is rendered in full when its
 * root is new, its root's `addr` moved, the dirty-log masks changed everywhere (global
 * tracking switched), or the paths to a changed region are too many to follow. The
 * result is always what a full render gives; tests hold the two together.
 *
 * Resolved roots of address spaces are cached too, and forgotten when a change touches
 * a region their resolution looked at. The table knows which users (address spaces) look
 * at which view, so a commit visits only the users whose view can differ: those of a
 * re-rendered view and those whose resolution was forgotten. A machine with hundreds of
 * device address spaces then pays nothing for the ones no change can reach. A view rendered
 * again in windows comes with its {@link ViewEdit}, so that what follows (the listeners' diff,
 * the ioeventfd collection) can look at the splices alone.
 */
export class FlatViewTable<U extends ViewUser> {
  readonly #entries = new Map<MemoryRegion | null, Entry>();
  /**
   * Per view root: windows to render again, or null for the whole view. Replaced by a fresh Map
   * after each reset rather than cleared, for the reason given at {@link #edits}.
   */
  #pending = new Map<MemoryRegion, AddrWindow[] | null>();
  /**
   * Regions announced since the last reset, with where each was placed before its first change:
   * their windows are walked at the reset, all in one walk (see {@link #addChangedWindows}), so an
   * announcement costs a list entry and a transaction switching 26 PAM aliases walks once.
   */
  readonly #changed = new ChangedRegions();
  /**
   * Every region some view root reaches downward, or once reached (a superset, which is
   * all the window walk needs to skip dead ends such as the many bus-master aliases of
   * `system`): grown when a view is rendered in full and when a region joins a container
   * in it, and built again from the view roots when it has grown to twice what was live
   * at its last rebuild, so that removed regions are not kept forever.
   */
  readonly #reached = new Set<MemoryRegion>();
  /** The size of {@link #reached} after its last rebuild. */
  #liveReached = 0;
  readonly #mayLead = (x: MemoryRegion): boolean => this.#reached.has(x);
  /** The reached aliases of each target: the only aliases the window walk needs to look at. */
  readonly #reachedAliases = new Map<MemoryRegion, Set<MemoryRegion>>();
  readonly #aliasesOf = (x: MemoryRegion): Iterable<MemoryRegion> => this.#reachedAliases.get(x) ?? NO_REGIONS;
  /**
   * Regions announced by `willChange` whose change has not yet been reported done: the first
   * `#inFlightCount` entries (a count, not the array's length: setting a length is a runtime call).
   */
  readonly #inFlight: (MemoryRegion | null)[] = [];
  #inFlightCount = 0;
  /** A reset failed half-way (see {@link lose}); the next one starts from nothing. */
  #lost = false;
  /** Cached `getFlatViewRoot` per address-space root. */
  readonly #resolved = new Map<MemoryRegion, MemoryRegion | null>();
  /** For each region a cached resolution looked at, the roots whose resolution must be forgotten when it changes. */
  readonly #dependents = new OneOrMany<MemoryRegion, MemoryRegion>();
  /**
   * The two regions last touched: they hold no dependents until a resolution adds some (which
   * forgets them), so touching them again finds nothing. A PAM toggle touches `system` 52 times,
   * between touches of the aliases; one lookup does.
   */
  #touchedA: MemoryRegion | null = null;
  #touchedB: MemoryRegion | null = null;
  /** The resolved root each user's view came from when it was last looked at. */
  readonly #keyOf = new Map<U, MemoryRegion | null>();
  readonly #users = new OneOrMany<MemoryRegion | null, U>();
  /** Users by their own root, to find those whose resolution a change forgot. */
  readonly #byRoot = new OneOrMany<MemoryRegion, U>();
  /** Roots whose resolution a change forgot since the last reset. */
  readonly #unresolved = new Set<MemoryRegion>();
  /** Views that lost their last user; QEMU keeps them in its table until the next reset. */
  readonly #orphans = new Set<MemoryRegion | null>();
  readonly #render: (root: MemoryRegion | null) => FlatView;
  readonly #rerender: (old: FlatView, windows: AddrWindow[]) => { view: FlatView; edit: ViewEdit };
  /**
   * How each view re-rendered in windows at the last reset was made from its previous one. A
   * fresh array per reset, not a Map cleared each time: a cleared Map's dead table, already in
   * V8's old generation, would keep every edit (and the view it came from) alive through young
   * collections until the next full one.
   */
  #edits: { readonly view: FlatView; readonly edit: ViewEdit }[] = [];
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
    const options = { dirtyLogMask };
    const scratch = new ExactRenderScratch();
    this.#rerender = (old, windows) => rerenderWithEdit(old, windows, options, scratch);
  }

  /**
   * Before `mr` changes: remember where it was placed, so that the next reset renders again
   * where it showed before and where it shows after.
   */
  willChange(mr: MemoryRegion): void {
    // With no view cached (only the empty one) no window can need rendering again: a machine file's
    // 100 000 regions, added before any space exists, are not recorded for a commit to walk. A view
    // rendered later in the same transaction shows every change made before it (see join); later ones
    // are recorded.
    if (this.#entries.size > 1) this.#changed.add(mr);
    this.#inFlight[this.#inFlightCount++] = mr;
    this.#touch(mr);
    if (mr.container !== null) this.#touch(mr.container);
  }

  /** After the change: a region's new container may resolve differently now (a child was added). */
  didChange(): void {
    for (let k = 0; k < this.#inFlightCount; k++) {
      const mr = this.#inFlight[k]!;
      this.#inFlight[k] = null;
      if (mr.container === null) continue;
      this.#touch(mr.container);
      if (this.#reached.has(mr.container) && !this.#reached.has(mr)) this.#reach(mr);
    }
    this.#inFlightCount = 0;
  }

  /** Adds `from` and everything below it (subregions, alias targets) to the reached set. */
  #reach(from: MemoryRegion): void {
    const stack = [from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (this.#reached.has(x)) continue;
      this.#reached.add(x);
      if (x.alias !== null) {
        setOf(this.#reachedAliases, x.alias).add(x);
        stack.push(x.alias);
      }
      for (const s of x.subregions) stack.push(s);
    }
  }

  /**
   * Adds where the regions announced since the last reset showed before their change and show
   * now, in every cached view, to what those views must render again; one walk for all of them.
   *
   * Where a region showed before is found now, after the transaction, from its old placement:
   * the paths above its old container are the same as before unless some region on them moved,
   * resized, changed its alias offset or left, and such a region announced itself, so its own
   * old placement covers every path through it. A region that did not move (switched on or
   * off, flags) shows where it showed before. Enabled flags are ignored all the way up.
   */
  #addChangedWindows(): void {
    const changed = this.#changed;
    const seeds: WindowSeed[] = [];
    // Unmoved regions whose only way up is their container (no view root, no alias a view reaches), by
    // container: their first window step is taken here, so that siblings that meet (the 26 PAM aliases
    // of one toggle) are joined and walked up once.
    let siblings: Map<MemoryRegion, MemoryRegion[]> | null = null;
    // The list of the last container seen (null when no view reaches it): announced siblings come in runs.
    let lastContainer: MemoryRegion | null = null;
    let lastList: MemoryRegion[] | null = null;
    for (let k = 0; k < changed.count; k++) {
      const mr = changed.region(k);
      const was = changed.wasContainer(k);
      const wasAddr = changed.wasAddr(k);
      const wasSize = changed.wasSize(k);
      const container = mr.container;
      const moved = container !== was || mr.addr !== wasAddr || mr.size !== wasSize;
      const aliasReached = mr.aliasedBy.size > 0 && this.#reachedAliases.has(mr);
      if (!moved && container !== null && !aliasReached && !this.#entries.has(mr)) {
        if (container !== lastContainer) {
          lastContainer = container;
          lastList = null;
          if (this.#reached.has(container)) {
            siblings ??= new Map();
            lastList = siblings.get(container) ?? null;
            if (lastList === null) {
              lastList = [];
              siblings.set(container, lastList);
            }
          }
        }
        if (lastList !== null) lastList.push(mr);
        continue;
      }
      seeds.push({ x: mr, lo: 0n, hi: mr.size > wasSize ? mr.size : wasSize });
      if (moved && was !== null) seeds.push({ x: was, lo: wasAddr, hi: wasAddr + wasSize });
    }
    if (siblings !== null) for (const [container, list] of siblings) joinSiblings(container, list, seeds);
    const found = seedWindows(seeds, this.#entries, this.#mayLead, this.#aliasesOf);
    for (const key of this.#entries.keys()) {
      if (key === null) continue;
      const pending = this.#pending.get(key);
      if (pending === null) continue;
      const windows = found === null ? null : found.get(key);
      if (windows === null) this.#pending.set(key, null);
      else if (windows === undefined) continue;
      // Appended in place: a transaction adding n children must not copy the list n times.
      else if (pending === undefined) this.#pending.set(key, windows);
      else for (const w of windows) pending.push(w);
    }
  }

  /** QEMU's `memory_region_get_flatview_root`, cached per address-space root. */
  #resolve(asRoot: MemoryRegion | null): MemoryRegion | null {
    if (asRoot === null) return null;
    let key = this.#resolved.get(asRoot);
    if (key === undefined) {
      key = getFlatViewRoot(asRoot);
      this.#resolved.set(asRoot, key);
      for (const r of resolutionPath(asRoot)) this.#dependents.add(r, asRoot);
      this.#touchedA = null;
      this.#touchedB = null;
    }
    return key;
  }

  /** A change to `mr` may change how any root whose resolution looked at `mr` resolves. */
  #touch(mr: MemoryRegion): void {
    // Most regions no resolution looked at: no closure for them (three touches per region change).
    if (mr === this.#touchedA || mr === this.#touchedB) return;
    this.#touchedB = this.#touchedA;
    this.#touchedA = mr;
    const held = this.#dependents.take(mr);
    if (held !== undefined) forEachOf(held, this.#unresolve);
  }

  readonly #unresolve = (root: MemoryRegion): void => {
    this.#resolved.delete(root);
    this.#unresolved.add(root);
  };

  /** The view of `key` now: cached, re-rendered where something changed, or rendered. */
  #viewOf(key: MemoryRegion | null): FlatView {
    const entry = this.#entries.get(key);
    if (key === null) return entry!.view;
    if (entry === undefined || entry.rootAddr !== key.addr || entry.maskState !== this.#maskState()) {
      return this.#store(key, this.#render(key));
    }
    const windows = this.#pending.get(key);
    if (windows === undefined) return entry.view;
    if (windows === null) return this.#store(key, this.#render(key));
    const sorted = coalesce(windows);
    // Each window's render walks the children of every container on its way up to the window, so
    // thousands of windows (a machine file adding its regions in one transaction) cost windows times
    // siblings: quadratic. One full render costs the tree once.
    if (sorted.length > MAX_RERENDER_WINDOWS) return this.#store(key, this.#render(key));
    const { view, edit } = this.#rerender(entry.view, sorted);
    if (view !== entry.view) this.#edits.push({ view, edit });
    return this.#store(key, view, false);
  }

  /**
   * Where `regions` can show in the cached views ({@link regionWindows}, sorted and disjoint per
   * view), with the users looking at each such view: for a commit in which only regions' own
   * ioeventfd lists changed and no view did, the only users whose lists can differ. Null when the
   * paths are too many to follow or the table has lost track (then every user may differ).
   */
  showing(regions: Iterable<MemoryRegion>): { users: ReadonlySet<U>; view: FlatView; windows: AddrWindow[] }[] | null {
    if (this.#lost) return null;
    const seeds: WindowSeed[] = [];
    for (const mr of regions) seeds.push({ x: mr, lo: 0n, hi: mr.size });
    const found = seedWindows(seeds, this.#entries, this.#mayLead, this.#aliasesOf);
    if (found === null) return null;
    const out: { users: ReadonlySet<U>; view: FlatView; windows: AddrWindow[] }[] = [];
    for (const [key, windows] of found) {
      const entry = this.#entries.get(key);
      if (!this.#users.has(key) || entry === undefined) continue;
      const users = this.#users.setOf(key);
      // A root moved since its view was rendered (that schedules nothing): the windows are in the moved
      // root's coordinates, the view's ranges are not, so the whole view is looked at.
      const all = entry.rootAddr !== key.addr;
      const sorted = windows.length === 1 ? windows : coalesce(windows);
      out.push({ users, view: entry.view, windows: all ? [{ start: 0n, end: 1n << 64n }] : sorted });
    }
    return out;
  }

  /**
   * How `view`, returned by the last {@link reset}, was made from the view its key had
   * before (`edit.from`): undefined when it was rendered in full or did not change.
   */
  editOf(view: FlatView): ViewEdit | undefined {
    for (const e of this.#edits) if (e.view === view) return e.edit;
    return undefined;
  }

  /**
   * `address_space_init`'s `address_space_update_topology`: the view of a new user is the
   * cached view of its resolved root (inside an open transaction it may predate pending
   * changes, as in QEMU), else a render now, cached too.
   */
  join(user: U): FlatView {
    const key = this.#resolve(user.root);
    this.#index(user, key);
    if (user.root !== null) this.#byRoot.add(user.root, user);
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached.view;
    const view = this.#store(key, this.#render(key as MemoryRegion));
    // Rendered inside a transaction after changes were recorded: their placements predate this view (a
    // region added, then rendered here, then removed would stay in it), so the commit renders it in full.
    if (this.#changed.count > 0) this.#pending.set(key as MemoryRegion, null);
    return view;
  }

  /** The user is gone; its view stays in the table until the next reset, as in QEMU. */
  leave(user: U): void {
    this.#unindex(user);
    const root = user.root;
    if (root === null || !this.#byRoot.has(root)) return;
    if (this.#byRoot.delete(root, user)) {
      // Nobody looks at this root any more: its resolution is not worth keeping (nor the root through it).
      this.#resolved.delete(root);
      this.#unresolved.delete(root);
    }
  }

  /**
   * `flatviews_reset` at a topology commit: renders what changed and returns, with its view
   * now, every user whose view may differ from the one it had (in no particular order).
   * Any other user's view is the very object it already has: nothing touched its root.
   * Views nobody uses any more leave the table.
   */
  reset(): Map<U, FlatView> {
    if (this.#lost) this.#forget();
    try {
      return this.#reset();
    } catch (error) {
      // Whatever this reset had started (windows consumed, resolutions forgotten, views half
      // stored) is not to be trusted: the next one renders every view and visits every user.
      this.#lost = true;
      throw error;
    }
  }

  /**
   * A commit failed before its views reached the address spaces (the system calls this when an
   * error other than a listener's escapes): the next reset renders every view from scratch and
   * returns every user, so each space gets the truth whatever the failed commit had done.
   */
  lose(): void {
    this.#lost = true;
  }

  /** Drops every cached view, window and resolution; every user becomes a candidate of the next reset. */
  #forget(): void {
    for (const key of [...this.#entries.keys()]) if (key !== null) this.#entries.delete(key);
    this.#pending.clear();
    this.#changed.clear();
    this.#resolved.clear();
    this.#dependents.clear();
    for (const root of this.#byRoot.keys()) this.#unresolved.add(root);
    this.#lost = false;
  }

  #reset(): Map<U, FlatView> {
    // Collections are cleared only when not empty: V8's clear() allocates a fresh table every time.
    if (this.#edits.length > 0) this.#edits = [];
    if (this.#changed.count > 0) {
      try {
        this.#addChangedWindows();
      } finally {
        this.#changed.clear();
      }
    }
    // Replaced after this reset when it held anything: entries are not deleted one by one (a Map's
    // delete can shrink its table, a runtime call costing as much as the table was once large).
    const pendingUsed = this.#pending.size > 0;
    const maskState = this.#maskState();
    const candidates = new Set<U>();
    const addCandidate = (user: U): void => {
      candidates.add(user);
    };
    // A view root's own address and the mask state change no window (a root's set_address
    // schedules nothing) yet change the view at this commit: one check per cached view.
    for (const [key, entry] of this.#entries) {
      if (key === null || (entry.rootAddr === key.addr && entry.maskState === maskState && !this.#pending.has(key))) {
        continue;
      }
      this.#users.forEach(key, addCandidate);
    }
    if (this.#unresolved.size > 0) {
      for (const root of this.#unresolved) this.#byRoot.forEach(root, addCandidate);
      this.#unresolved.clear();
    }
    const views = new Map<MemoryRegion | null, FlatView>();
    const out = new Map<U, FlatView>();
    for (const user of candidates) {
      const key = this.#resolve(user.root);
      if (this.#keyOf.get(user) !== key) {
        this.#unindex(user);
        this.#index(user, key);
      }
      let view = views.get(key);
      if (view === undefined) {
        view = this.#viewOf(key);
        views.set(key, view);
      }
      out.set(user, view);
    }
    if (this.#orphans.size > 0) {
      for (const key of this.#orphans) if (key !== null && !this.#users.has(key)) this.#entries.delete(key);
      this.#orphans.clear();
    }
    if (pendingUsed || this.#pending.size > 0) this.#pending = new Map();
    if (this.#reached.size > 2 * this.#liveReached + COMPACT_SLACK) this.#compact();
    return out;
  }

  /**
   * Forgets what removed regions and destroyed spaces left in the walk's sets: the reached set and the cached
   * resolutions are built again from the live view roots and address-space roots. Amortized: it runs only after the
   * reached set doubled, so its cost is at most that of the growth it follows.
   */
  #compact(): void {
    this.#reached.clear();
    this.#reachedAliases.clear();
    for (const key of this.#entries.keys()) if (key !== null) this.#reach(key);
    this.#liveReached = this.#reached.size;
    this.#resolved.clear();
    this.#dependents.clear();
    for (const root of this.#byRoot.keys()) this.#resolve(root);
  }

  #index(user: U, key: MemoryRegion | null): void {
    this.#keyOf.set(user, key);
    this.#users.add(key, user);
    if (this.#orphans.size > 0) this.#orphans.delete(key);
  }

  #unindex(user: U): void {
    const key = this.#keyOf.get(user)!;
    this.#keyOf.delete(user);
    if (this.#users.delete(key, user)) this.#orphans.add(key);
  }

  #store(key: MemoryRegion | null, view: FlatView, full = true): FlatView {
    if (full && key !== null) this.#reach(key);
    this.#entries.set(key, { view, rootAddr: key?.addr ?? 0n, maskState: this.#maskState() });
    // A view rendered in full has nothing left to render again; a re-rendered one is only made in a
    // reset, which replaces the whole pending map at its end.
    if (full && this.#pending.has(key as MemoryRegion)) this.#pending.delete(key as MemoryRegion);
    return view;
  }
}

/**
 * The regions whose change can alter what `getFlatViewRoot` gives for `root`: the chain it follows
 * and the alias targets it compares sizes with. The children it counts are not listed: a change to a
 * child (enabled, placement, size, removal) announces the child, and the table then touches its
 * container too, as it does a container that gains a child; a container with hundreds of children
 * (`system`) so costs one entry, not one per child.
 */
function resolutionPath(root: MemoryRegion): MemoryRegion[] {
  const path: MemoryRegion[] = [];
  let mr: MemoryRegion | null = root;
  while (mr !== null) {
    path.push(mr);
    // The target's size decides whether the alias is skipped, even when it is not.
    if (mr.enabled && mr.alias !== null) path.push(mr.alias);
    const next: MemoryRegion | null = flatViewRootStep(mr, rootChainChildren(mr));
    mr = next === mr ? null : next;
  }
  return path;
}

/**
 * Appends to `seeds` the parts of `container` that its unmoved children `list` cover, those that
 * overlap or meet joined into one, each clipped to the container. Compared in doubles where exact:
 * a PAM toggle's 26 aliases then cost no bigint but the one seed's end.
 */
function joinSiblings(container: MemoryRegion, list: MemoryRegion[], seeds: WindowSeed[]): void {
  let sorted = true;
  for (let i = 1; i < list.length && sorted; i++) sorted = list[i - 1]!.addr <= list[i]!.addr;
  if (!sorted) list.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  let first = list[0]!;
  let furthest = first;
  for (let i = 1; i < list.length; i++) {
    const next = list[i]!;
    if (startsByEnd(next, furthest)) {
      if (endsAfter(next, furthest)) furthest = next;
    } else {
      seeds.push(siblingSeed(container, first, furthest));
      first = next;
      furthest = next;
    }
  }
  seeds.push(siblingSeed(container, first, furthest));
}

function siblingSeed(container: MemoryRegion, first: MemoryRegion, furthest: MemoryRegion): WindowSeed {
  const end = furthest.addr + furthest.size;
  return { x: container, lo: first.addr, hi: end < container.size ? end : container.size };
}

/** `mr.addr + mr.size` as a double when below 2^53 (so exact), else -1. */
function exactEnd(mr: MemoryRegion): number {
  if (mr.addr >= BIG_EXACT_LIMIT || mr.size >= BIG_EXACT_LIMIT) return -1;
  const end = toDouble(mr.addr) + toDouble(mr.size);
  return end < EXACT_LIMIT ? end : -1;
}

/** Whether `a` starts at or before the end of `b` (they overlap or meet). */
function startsByEnd(a: MemoryRegion, b: MemoryRegion): boolean {
  const end = exactEnd(b);
  if (end >= 0 && a.addr < BIG_EXACT_LIMIT) return toDouble(a.addr) <= end;
  return a.addr <= b.addr + b.size;
}

/** Whether `a` ends after `b`. */
function endsAfter(a: MemoryRegion, b: MemoryRegion): boolean {
  const ea = exactEnd(a);
  const eb = exactEnd(b);
  if (ea >= 0 && eb >= 0) return ea > eb;
  return a.addr + a.size > b.addr + b.size;
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}
