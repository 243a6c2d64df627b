import { cutText, escapeText, wrap64 } from "@memtopo/region-tree";
import { formatError } from "../errors.js";
import { ClipIndex, upperBound } from "./clip-index.js";
import type { ImportRegion, RegionModel } from "./model.js";
import type { FlatBlock, FlatRangeLine } from "./parse-flat.js";
import type { TreeBlock } from "./parse-tree.js";
import { SpaceBlocks } from "./space-blocks.js";
import { applyResolution, type Resolution, resolutions } from "./view-root.js";

/** A place where a region could contribute to a view: its origin and the clip it renders in. */
interface Placement {
  readonly region: ImportRegion;
  readonly origin: bigint;
  readonly clipStart: bigint;
  readonly clipEnd: bigint;
  /** The regions rendered on the way, outermost first. */
  readonly path: readonly ImportRegion[];
  /** Position in render order within its view. */
  readonly order: number;
}

/** A piece of a printed range, attributed to the placement that produced it. */
interface Piece {
  readonly placement: Placement;
  readonly range: FlatRangeLine;
  readonly start: bigint;
  readonly end: bigint;
}

const key = (name: string, priority: number, origin: bigint): string =>
  `${name}\u0001${priority}\u0001${wrap64(origin)}`;

const through = (p: Placement): ImportRegion[] => [...p.path, p.region];
/** `through(p)[k]` without the list. */
const stepOf = (p: Placement, k: number): ImportRegion => (k < p.path.length ? p.path[k]! : p.region);

/** A region's position in its container's printed list: siblings at one address print in list order. */
type SiblingPosition = (r: ImportRegion) => number;

const shown = (name: string): string => `"${cutText(escapeText(name))}"`;

/**
 * A flat view is a function of the tree at the moment it was printed: one the tree cannot
 * give (another machine, or the same one after a change) would teach the importer wrong
 * facts, so it is refused (`E_MTREE_MISMATCH`), with the line of the flat text.
 */
function mismatch(line: number, what: string): never {
  formatError("E_MTREE_MISMATCH", `flat line ${line}`, `${what}: the flat view is not of the tree given with it`);
}

/** An ` AS` line of a flat view and the tree block it was matched to. */
export interface ListedSpace {
  readonly name: string;
  readonly block: TreeBlock;
}

/**
 * Reads what the flat views say about the regions: which `i/o` regions have content of
 * their own, which regions are read-only, which `start-start` regions are empty, and
 * which of two overlapping equal-priority siblings comes first in the list. It follows
 * QEMU's render recursion over the recovered tree without deciding who wins, then
 * attributes every printed range, piece by piece, to the first placement in render
 * order that can have produced it.
 *
 * Returns every address space as the views list them (each view's in creation order), with the block its line
 * was matched to: look-alike roots print the same line, and only the view a space is listed under tells which
 * root is its, so the creation order must be read from these very blocks.
 */
export function applyFlatHints(
  model: RegionModel,
  spaceBlocks: readonly TreeBlock[],
  flat: readonly FlatBlock[],
  warnings: string[],
): readonly ListedSpace[] {
  // A tree block holds every space with that root: a space is looked up by name and root name.
  const blocks = new SpaceBlocks(spaceBlocks, model);
  const positions = new Map<ImportRegion, number>();
  for (const r of model.regions) {
    for (let i = 0; i < r.children.length; i++) positions.set(r.children[i]!, i);
  }
  const position: SiblingPosition = (r) => positions.get(r) ?? -1;
  const placed = new Set<ImportRegion>();
  const pieces: Piece[] = [];
  const views: { placements: readonly Placement[]; pieces: readonly Piece[] }[] = [];
  const listed: ListedSpace[] = [];
  for (const view of flat) {
    // Every space of the view resolves to its root: what it skips on the way, and a
    // space that resolves to nothing, say which i/o regions are containers.
    const choices: Resolution[][] = [];
    // Look-alike roots print the same ` AS` line and may resolve to distinct regions of the view root's name (QEMU
    // groups spaces by the resolved region itself): a block is this view's when a region it resolves to renders
    // exactly these ranges. Asked once per resolved region and view (nothing changes while a view is matched):
    // 50 000 bus-master spaces resolve to a few regions.
    const attributions = new Map<ImportRegion | null, { attribution: Attribution; exact: boolean }>();
    const attributionOf = (res: Resolution): { attribution: Attribution; exact: boolean } => {
      let known = attributions.get(res.root);
      if (known === undefined) {
        const attribution = attributeView(res.root, view, position);
        known = { attribution, exact: attribution.unexplained.length === 0 && rendersOnlyRanges(attribution, view) };
        attributions.set(res.root, known);
      }
      return known;
    };
    for (const space of view.spaces) {
      const block = blocks.take(space, view, (b) =>
        resolutions(model.of(b.root), view.viewRoot).some((res) => attributionOf(res).exact),
      );
      if (block === undefined) {
        mismatch(
          view.line,
          `address space ${shown(space.name)} with root ${shown(space.root)} is not in the tree text`,
        );
      }
      const options = resolutions(model.of(block.root), view.viewRoot);
      if (options.length === 0) {
        mismatch(
          view.line,
          `the tree of address space ${shown(space.name)} cannot render from root ${shown(view.viewRoot ?? "(none)")}`,
        );
      }
      choices.push(options);
      listed.push({ name: space.name, block });
    }
    if (choices.length === 0) continue;
    // Of the candidate roots, one that renders exactly the view, else the one that explains it best (the deepest
    // on a tie).
    let best: { res: Resolution; attribution: Attribution; exact: boolean } | null = null;
    for (const res of [...choices[0]!].reverse()) {
      if (best?.exact === true) break;
      const { attribution, exact } = attributionOf(res);
      if (best === null || exact || attribution.unexplained.length < best.attribution.unexplained.length) {
        best = { res, attribution, exact };
      }
    }
    const root = best!.res.root;
    applyResolution(best!.res);
    for (const options of choices.slice(1)) {
      applyResolution(options.find((o) => o.root === root) ?? options[options.length - 1]!);
    }
    const { placements, pieces: viewPieces, unexplained } = best!.attribution;
    for (const range of unexplained) {
      mismatch(range.line, `no region of the tree can print ${shown(range.name)} here`);
    }
    for (const p of placements) for (const r of through(p)) placed.add(r);
    // One by one, not push(...): a view may have a million pieces.
    for (const piece of viewPieces) pieces.push(piece);
    views.push({ placements, pieces: viewPieces });
  }

  // `info mtree -f` lists every address space under its view: one the flat text never names is another machine's.
  const unmet = blocks.firstUnmet();
  if (unmet !== null) {
    formatError(
      "E_MTREE_MISMATCH",
      `line ${unmet.block.root.line}`,
      `address space ${shown(unmet.name)} is in no FlatView of the flat text: the flat view is not of this tree`,
    );
  }
  const touched = new Map<ImportRegion, Piece[]>();
  for (const piece of pieces) {
    piece.placement.region.seenInFlat = true;
    for (const r of through(piece.placement)) {
      // Appended in place: a copy per piece cost n^2 for a container with n pieces.
      const list = touched.get(r);
      if (list === undefined) touched.set(r, [piece]);
      else list.push(piece);
    }
  }
  // An i/o region that takes part in a view but never shows has no content of its own:
  // as an I/O region it would have shown (nothing earlier covered it) or been hidden
  // (then a container prints and renders the same).
  for (const r of placed) {
    if (r.type === "i/o" && r.alias === null && !r.seenInFlat && !r.mustBeIo) r.mustBeContainer = true;
  }
  // A `start-start` region that takes part in a view but never in a range is empty.
  for (const r of placed) {
    if (r.node.start !== r.node.end) continue;
    if (!touched.has(r)) r.size = 0n;
    r.sizeSettled = true;
  }
  markReadonly(pieces, touched, warnings);
  for (const v of views) {
    const clips = new ClipIndex(v.placements);
    for (const piece of v.pieces) orderSiblings(piece.placement, piece.start, piece.end, clips);
  }
  return listed;
}

/**
 * Read-only ranges of regions whose own type does not say so: the flag sits on the
 * innermost region of the path whose every range is read-only. RAM cannot carry it (its
 * tree type would turn to `rom`); aliases and containers print the same either way.
 */
function markReadonly(pieces: readonly Piece[], touched: ReadonlyMap<ImportRegion, Piece[]>, warnings: string[]): void {
  // Once per region: a container's list holds every piece under it, read per read-only piece it was n^2.
  const readonlyAll = new Map<ImportRegion, boolean>();
  const allReadonly = (r: ImportRegion): boolean => {
    let all = readonlyAll.get(r);
    if (all === undefined) {
      all = touched.get(r)!.every((p) => p.range.type === "rom");
      readonlyAll.set(r, all);
    }
    return all;
  };
  for (const piece of pieces) {
    const chain = through(piece.placement);
    const isReadonly = (r: ImportRegion): boolean => r.readonly || (r.type === "rom" && r.alias === null);
    if (piece.range.type !== "rom") {
      if (chain.some((r) => r.readonly)) {
        warnings.push(
          `line ${piece.range.line} of the flat view: ${piece.range.name} is writable here, read-only elsewhere`,
        );
      }
      continue;
    }
    if (chain.some(isReadonly)) continue;
    const holder = [...chain].reverse().find((r) => !(r.type === "ram" && r.alias === null) && allReadonly(r));
    if (holder === undefined) {
      warnings.push(
        `line ${piece.range.line} of the flat view: no region can hold the read-only flag of ${piece.range.name}`,
      );
    } else {
      holder.readonly = true;
    }
  }
}

interface Attribution {
  readonly placements: readonly Placement[];
  readonly pieces: readonly Piece[];
  readonly unexplained: readonly FlatRangeLine[];
}

/**
 * Every printed range, piece by piece, attributed to the first placement in render order
 * with its region's name, priority and origin: a range may be merged from pieces rendered
 * through different aliases (PAM windows over one RAM block).
 */
function attributeView(root: ImportRegion | null, view: FlatBlock, position: SiblingPosition): Attribution {
  const placements: Placement[] = [];
  if (root !== null) place(root, 0n, 0n, 1n << 64n, [], placements);
  // An i/o placement chosen for one range would also have taken every address of its clip
  // that a placement surely after it shows: then it renders nothing, so try again without it.
  const excluded = new Set<Placement>();
  let attribution = attributeOnce(placements, view, excluded, position);
  for (let round = 0; round < 8; round++) {
    // The pieces ascend without overlap (as the ranges do): those in a clip are one run, found by its first end.
    const { pieces } = attribution;
    const ends = pieces.map((q) => q.end);
    const wrong = new Set<Placement>();
    for (const piece of pieces) {
      const p = piece.placement;
      if (p.region.type !== "i/o" || wrong.has(p)) continue;
      for (let k = upperBound(ends, p.clipStart); k < pieces.length && pieces[k]!.start < p.clipEnd; k++) {
        const q = pieces[k]!;
        if (q.placement !== p && surelyBefore(p, q.placement, position)) {
          wrong.add(p);
          break;
        }
      }
    }
    if (wrong.size === 0) break;
    for (const p of wrong) excluded.add(p);
    attribution = attributeOnce(placements, view, excluded, position);
  }
  return attribution;
}

/**
 * Whether every address where a region that certainly renders (not i/o, not a `start-start` one of unknown size)
 * is placed lies in a printed range: what renders there is it or what comes before it, and a view that leaves such
 * an address out is another root's.
 */
function rendersOnlyRanges(attribution: Attribution, view: FlatBlock): boolean {
  const starts = view.ranges.map((r) => r.start);
  const ends = view.ranges.map((r) => r.start + r.size);
  for (const p of attribution.placements) {
    if (p.region.type === "i/o" || p.region.node.start === p.region.node.end) continue;
    // The ranges ascend without overlap: the clip is covered when the ranges from the one holding its start run on
    // without a gap to its end.
    let pos = p.clipStart;
    for (let i = upperBound(ends, pos); pos < p.clipEnd; i++) {
      if (i >= starts.length || starts[i]! > pos) return false;
      pos = ends[i]!;
    }
  }
  return true;
}

function attributeOnce(
  placements: readonly Placement[],
  view: FlatBlock,
  excluded: ReadonlySet<Placement>,
  position: SiblingPosition,
): Attribution {
  const byKey = new Map<string, Placement[]>();
  for (const p of placements) {
    if (excluded.has(p)) continue;
    const k = key(p.region.name, p.region.priority, p.origin);
    const same = byKey.get(k);
    if (same === undefined) byKey.set(k, [p]);
    else same.push(p);
  }
  const matches = (range: FlatRangeLine, c: Placement): boolean =>
    (range.type === "rom" || range.type === c.region.type) &&
    range.nonvolatile === through(c).some((r) => r.nonvolatile);
  // A region that certainly renders (not i/o) cannot show at `at` when another one that
  // certainly renders there comes first in render order: what prints is someone else's.
  // Asked per piece: the placements that certainly render are indexed by clip, not scanned (n^2 for n siblings).
  const certainClips = new ClipIndex(
    placements.filter((q) => q.region.type !== "i/o" && !excluded.has(q) && q.region.node.start !== q.region.node.end),
  );
  const blocked = (c: Placement, at: bigint): boolean =>
    certainClips.at(at).some((q) => q !== c && surelyBefore(q, c, position));
  // The first placement that certainly renders and can print each range's start.
  const certainAt = view.ranges.map((range) =>
    (byKey.get(key(range.name, range.priority, range.start - range.offset)) ?? []).find(
      (c) =>
        c.region.type !== "i/o" &&
        matches(range, c) &&
        c.clipStart <= range.start &&
        range.start < c.clipEnd &&
        !blocked(c, range.start),
    ),
  );
  // An i/o region that rendered itself would leave no gap in its clip, and would have taken
  // every address there that a later placement in render order shows: one that does not
  // is a container, whatever its name says.
  // The ranges ascend without overlap (parseFlatText refuses others): those in a clip are one run of them, found
  // by binary search, and each placement's answer is kept (it was a scan of every range per candidate and range).
  const starts = view.ranges.map((r) => r.start);
  const ends = view.ranges.map((r) => r.start + r.size);
  const coveredBy = new Map<Placement, boolean>();
  const covered = (p: Placement): boolean => {
    let answer = coveredBy.get(p);
    if (answer === undefined) {
      answer = coveredNow(p);
      coveredBy.set(p, answer);
    }
    return answer;
  };
  const coveredNow = (p: Placement): boolean => {
    for (let i = lowerBound(starts, p.clipStart); i < starts.length && starts[i]! < p.clipEnd; i++) {
      const c = certainAt[i];
      if (c !== undefined && surelyBefore(p, c, position)) return false;
    }
    let pos = p.clipStart;
    for (let i = upperBound(ends, pos); i < starts.length; i++) {
      if (starts[i]! > pos) return false;
      pos = ends[i]!;
      if (pos >= p.clipEnd) return true;
    }
    return pos >= p.clipEnd;
  };
  const pieces: Piece[] = [];
  const unexplained: FlatRangeLine[] = [];
  view.ranges.forEach((range, index) => {
    // The printed type is the region's own unless the range is read-only (`rom`), and
    // `nv-` is the OR over the path, which the tree shows in full.
    const candidates = (byKey.get(key(range.name, range.priority, range.start - range.offset)) ?? []).filter(
      (c) => matches(range, c) && (c.region.type !== "i/o" || covered(c)),
    );
    const end = range.start + range.size;
    let pos = range.start;
    while (pos < end) {
      // An i/o region, which may be a container that renders nothing, yields to a region
      // that certainly renders: the printed line is the same.
      // QEMU merges a region's adjacent pieces with contiguous offsets and equal flags, so
      // a range that starts where the previous one of the same look ends is another region.
      const last = pieces[pieces.length - 1];
      const wouldMerge = (c: Placement): boolean =>
        pos === range.start &&
        last !== undefined &&
        last.end === pos &&
        last.placement.region === c.region &&
        last.range.offset + last.range.size === range.offset &&
        last.range.type === range.type &&
        last.range.nonvolatile === range.nonvolatile;
      // QEMU merges only pieces of one region: every piece of a range has the first one's region.
      const coverable = (c: Placement): boolean => {
        let at = c.clipEnd;
        while (at < end) {
          const more = candidates.find((o) => o.region === c.region && o.clipStart <= at && at < o.clipEnd);
          if (more === undefined) return false;
          at = more.clipEnd;
        }
        return true;
      };
      const first = pos === range.start ? null : pieces[pieces.length - 1]!.placement.region;
      const here = candidates.filter(
        (c) =>
          c.clipStart <= pos &&
          pos < c.clipEnd &&
          !wouldMerge(c) &&
          (first === null ? coverable(c) : c.region === first),
      );
      // Nor may it be a region that would have run on into the next range, which has the
      // same look and continues its offsets: then the two would have been merged.
      const next = view.ranges[index + 1];
      const runsOn = (c: Placement): boolean =>
        next !== undefined &&
        next.start === end &&
        c.clipEnd > end &&
        next.name === range.name &&
        next.type === range.type &&
        next.nonvolatile === range.nonvolatile &&
        wrap64(next.start - next.offset) === wrap64(c.origin);
      const certain = (c: Placement): boolean => c.region.type !== "i/o";
      const unblocked = here.some((c) => !certain(c)) ? here.filter((c) => !certain(c) || !blocked(c, pos)) : here;
      const pool = unblocked.length > 0 ? unblocked : here;
      const p =
        pool.find((c) => certain(c) && !runsOn(c)) ?? pool.find((c) => !runsOn(c)) ?? pool.find(certain) ?? pool[0];
      if (p === undefined) {
        unexplained.push(range);
        break;
      }
      const pieceEnd = p.clipEnd < end ? p.clipEnd : end;
      pieces.push({ placement: p, range, start: pos, end: pieceEnd });
      pos = pieceEnd;
    }
  });
  return { placements, pieces, unexplained };
}

/**
 * Whether `a` renders before `b` whatever the unknown list order of equal-priority
 * siblings at different addresses: a subregion before its container's own content, a
 * higher priority first, and siblings at one address in printed order.
 */
function surelyBefore(a: Placement, b: Placement, position: SiblingPosition): boolean {
  const na = a.path.length + 1;
  const nb = b.path.length + 1;
  let i = 0;
  while (i < na && i < nb && stepOf(a, i) === stepOf(b, i)) i++;
  if (i === nb) return i < na;
  if (i === na) return false;
  const x = stepOf(a, i);
  const y = stepOf(b, i);
  if (x.priority !== y.priority) return x.priority > y.priority;
  if (x.addr !== y.addr) return false;
  // Siblings in x's container (below an alias the next step is a target, whose container may be another).
  if (x.parent === null) return false;
  return position(x) < (y.parent === x.parent ? position(y) : -1);
}

/** The first index whose value is at or above `x` in an ascending list. */
function lowerBound(sorted: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function place(
  r: ImportRegion,
  base: bigint,
  clipStart: bigint,
  clipEnd: bigint,
  path: readonly ImportRegion[],
  out: Placement[],
): void {
  if (!r.enabled) return;
  const origin = base + r.addr;
  const end = origin + r.size;
  const cs = origin > clipStart ? origin : clipStart;
  const ce = end < clipEnd ? end : clipEnd;
  if (cs >= ce) return;
  const inner = [...path, r];
  if (r.alias !== null) {
    place(r.alias, origin - r.aliasOffset - r.alias.addr, cs, ce, inner, out);
    return;
  }
  // Render order: list order, which puts higher priorities first (printed order is by address).
  const listed = r.children.slice().sort((a, b) => b.priority - a.priority);
  for (const c of listed) place(c, origin, cs, ce, inner, out);
  out.push({ region: r, origin, clipStart: cs, clipEnd: ce, path, order: out.length });
}

/**
 * The region on the path won this piece over every equal-priority sibling at another
 * address that renders in it too (content of its own, or seen in a view): it comes first
 * in its container's list. Siblings at the same address print in list order already.
 */
function orderSiblings(p: Placement, start: bigint, end: bigint, clips: ClipIndex<Placement>): void {
  const chain = through(p);
  const renders = (q: Placement): boolean => q.region.type !== "i/o" || q.region.seenInFlat;
  // A placement that renders here competed with the winner below the container where its path leaves this
  // one (through this very path to the container: the container may also render elsewhere, reached through an
  // alias, or directly when this path is an alias's, and what its sibling shows there did not compete). Each
  // placement parts from the path at one level only, so the placements are read once per piece: testing every
  // sibling against every placement cost n^3 for n siblings (1 000 side by side with -f: 5.7 s); and the
  // placements that overlap the piece are asked of the view's clip index, not scanned (n^2).
  for (const q of clips.overlapping(start, end)) {
    if (!renders(q)) continue;
    const tq = through(q);
    let k = 0;
    while (k < chain.length && k < tq.length && tq[k] === chain[k]) k++;
    if (k === 0 || k >= chain.length || k >= tq.length) continue;
    const container = chain[k - 1]!;
    const winner = chain[k]!;
    const s = tq[k]!;
    // Below an alias the next step is its target, not a sibling.
    if (container.alias !== null) continue;
    if (!s.enabled || s.priority !== winner.priority || s.addr === winner.addr) continue;
    winner.before ??= new Set();
    winner.before.add(s);
  }
}
