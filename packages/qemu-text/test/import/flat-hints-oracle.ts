import { cutText, escapeText, wrap64 } from "@memtopo/region-tree";
import { formatError } from "../../src/errors.js";
import type { ImportRegion, RegionModel } from "../../src/import/model.js";
import type { FlatBlock, FlatRangeLine } from "../../src/import/parse-flat.js";
import type { TreeBlock } from "../../src/import/parse-tree.js";
import { applyResolution, type Resolution, resolutions } from "../../src/import/view-root.js";

/*
 * The flat hints as they were before the clip index (every placement scanned per piece: n^2 for n siblings side
 * by side), kept as the oracle of flat-hints.property.test.ts. Not used by the package.
 */

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

const shown = (name: string): string => `"${cutText(escapeText(name))}"`;

/**
 * A flat view is a function of the tree at the moment it was printed: one the tree cannot
 * give (another machine, or the same one after a change) would teach the importer wrong
 * facts, so it is refused (`E_MTREE_MISMATCH`), with the line of the flat text.
 */
function mismatch(line: number, what: string): never {
  formatError("E_MTREE_MISMATCH", `flat line ${line}`, `${what}: the flat view is not of the tree given with it`);
}

/**
 * Reads what the flat views say about the regions: which `i/o` regions have content of
 * their own, which regions are read-only, which `start-start` regions are empty, and
 * which of two overlapping equal-priority siblings comes first in the list. It follows
 * QEMU's render recursion over the recovered tree without deciding who wins, then
 * attributes every printed range, piece by piece, to the first placement in render
 * order that can have produced it.
 */
export function applyFlatHintsOracle(
  model: RegionModel,
  spaceBlocks: readonly TreeBlock[],
  flat: readonly FlatBlock[],
  warnings: string[],
): void {
  // A tree block holds every space with that root: a space is looked up by name and root name.
  const remaining = new Map(spaceBlocks.map((b) => [b, [...b.spaces!]]));
  const placed = new Set<ImportRegion>();
  const pieces: Piece[] = [];
  const views: { placements: readonly Placement[]; pieces: readonly Piece[] }[] = [];
  for (const view of flat) {
    // Every space of the view resolves to its root: what it skips on the way, and a
    // space that resolves to nothing, say which i/o regions are containers.
    const choices: Resolution[][] = [];
    for (const space of view.spaces) {
      const candidates = spaceBlocks.filter(
        (b) =>
          (remaining.get(b) ?? []).includes(space.name) &&
          model.of(b.root).name === space.root &&
          (model.of(b.root).alias?.name ?? null) === space.alias,
      );
      // Equal names and root names: prefer a block whose root can resolve the way this view says.
      const block = candidates.find((b) => resolutions(model.of(b.root), view.viewRoot).length > 0) ?? candidates[0];
      if (block === undefined) {
        mismatch(
          view.line,
          `address space ${shown(space.name)} with root ${shown(space.root)} is not in the tree text`,
        );
      }
      const names = remaining.get(block)!;
      names.splice(names.indexOf(space.name), 1);
      const options = resolutions(model.of(block.root), view.viewRoot);
      if (options.length === 0) {
        mismatch(
          view.line,
          `the tree of address space ${shown(space.name)} cannot render from root ${shown(view.viewRoot ?? "(none)")}`,
        );
      }
      choices.push(options);
    }
    if (choices.length === 0) continue;
    // Of the candidate roots, the one that explains the view best (the deepest on a tie).
    let best: { res: Resolution; attribution: Attribution } | null = null;
    for (const res of [...choices[0]!].reverse()) {
      const attribution = attributeView(res.root, view);
      if (best === null || attribution.unexplained.length < best.attribution.unexplained.length) {
        best = { res, attribution };
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
    pieces.push(...viewPieces);
    views.push({ placements, pieces: viewPieces });
  }

  // `info mtree -f` lists every address space under its view: one the flat text never names is another machine's.
  for (const [block, names] of remaining) {
    if (names.length > 0) {
      formatError(
        "E_MTREE_MISMATCH",
        `line ${block.root.line}`,
        `address space ${shown(names[0]!)} is in no FlatView of the flat text: the flat view is not of this tree`,
      );
    }
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
  for (const v of views)
    for (const piece of v.pieces) orderSiblings(piece.placement, piece.start, piece.end, v.placements);
}

/**
 * Read-only ranges of regions whose own type does not say so: the flag sits on the
 * innermost region of the path whose every range is read-only. RAM cannot carry it (its
 * tree type would turn to `rom`); aliases and containers print the same either way.
 */
function markReadonly(pieces: readonly Piece[], touched: ReadonlyMap<ImportRegion, Piece[]>, warnings: string[]): void {
  const allReadonly = (r: ImportRegion): boolean => touched.get(r)!.every((p) => p.range.type === "rom");
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
function attributeView(root: ImportRegion | null, view: FlatBlock): Attribution {
  const placements: Placement[] = [];
  if (root !== null) place(root, 0n, 0n, 1n << 64n, [], placements);
  // An i/o placement chosen for one range would also have taken every address of its clip
  // that a placement surely after it shows: then it renders nothing, so try again without it.
  const excluded = new Set<Placement>();
  let attribution = attributeOnce(placements, view, excluded);
  for (let round = 0; round < 8; round++) {
    const wrong = attribution.pieces
      .map((piece) => piece.placement)
      .filter(
        (p) =>
          p.region.type === "i/o" &&
          attribution.pieces.some(
            (q) => q.placement !== p && q.start < p.clipEnd && p.clipStart < q.end && surelyBefore(p, q.placement),
          ),
      );
    if (wrong.length === 0) break;
    for (const p of wrong) excluded.add(p);
    attribution = attributeOnce(placements, view, excluded);
  }
  return attribution;
}

function attributeOnce(
  placements: readonly Placement[],
  view: FlatBlock,
  excluded: ReadonlySet<Placement>,
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
  const blocked = (c: Placement, at: bigint): boolean =>
    placements.some(
      (q) =>
        q !== c &&
        q.region.type !== "i/o" &&
        !excluded.has(q) &&
        q.region.node.start !== q.region.node.end &&
        q.clipStart <= at &&
        at < q.clipEnd &&
        surelyBefore(q, c),
    );
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
  const covered = (p: Placement): boolean => {
    const later = view.ranges.some((r, i) => {
      const c = certainAt[i];
      return c !== undefined && p.clipStart <= r.start && r.start < p.clipEnd && surelyBefore(p, c);
    });
    if (later) return false;
    let pos = p.clipStart;
    for (const r of view.ranges) {
      if (r.start + r.size <= pos) continue;
      if (r.start > pos) return false;
      pos = r.start + r.size;
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
function surelyBefore(a: Placement, b: Placement): boolean {
  const pa = through(a);
  const pb = through(b);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  if (i === pb.length) return i < pa.length;
  if (i === pa.length) return false;
  const x = pa[i]!;
  const y = pb[i]!;
  if (x.priority !== y.priority) return x.priority > y.priority;
  if (x.addr !== y.addr) return false;
  const siblings = x.parent?.children ?? [];
  return siblings.indexOf(x) < siblings.indexOf(y);
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
  const listed = [...r.children].sort((a, b) => b.priority - a.priority);
  for (const c of listed) place(c, origin, cs, ce, inner, out);
  out.push({ region: r, origin, clipStart: cs, clipEnd: ce, path, order: out.length });
}

/**
 * The region on the path won this piece over every equal-priority sibling at another
 * address that renders in it too (content of its own, or seen in a view): it comes first
 * in its container's list. Siblings at the same address print in list order already.
 */
function orderSiblings(p: Placement, start: bigint, end: bigint, all: readonly Placement[]): void {
  const chain = through(p);
  const renders = (q: Placement): boolean =>
    q.clipStart < end && start < q.clipEnd && (q.region.type !== "i/o" || q.region.seenInFlat);
  // A placement that renders here competed with the winner below the container where its path leaves this
  // one (through this very path to the container: the container may also render elsewhere, reached through an
  // alias, or directly when this path is an alias's, and what its sibling shows there did not compete). Each
  // placement parts from the path at one level only, so the placements are read once per piece: testing every
  // sibling against every placement cost n^3 for n siblings (1 000 side by side with -f: 5.7 s).
  for (const q of all) {
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
