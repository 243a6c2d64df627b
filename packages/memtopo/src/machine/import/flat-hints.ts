import type { ImportRegion, RegionModel } from "./model.js";
import type { FlatBlock, FlatRangeLine } from "./parse-flat.js";
import type { TreeBlock } from "./parse-tree.js";

/** A place where a region could contribute to a view: its origin and the clip it renders in. */
interface Placement {
  readonly region: ImportRegion;
  readonly origin: bigint;
  readonly clipStart: bigint;
  readonly clipEnd: bigint;
  /** The regions rendered on the way, outermost first, each with its own origin. */
  readonly path: readonly { readonly region: ImportRegion; readonly origin: bigint }[];
}

const key = (name: string, priority: number, origin: bigint): string =>
  `${name}\u0001${priority}\u0001${BigInt.asUintN(64, origin)}`;

/**
 * Reads what the flat views say about the regions: which `i/o` regions have content of
 * their own, which aliases are read-only, which regions are empty and which of two
 * overlapping equal-priority siblings comes first in the list. It follows QEMU's render
 * recursion over the recovered tree without deciding who wins, then attributes every
 * printed range to the region, origin and clip that can have produced it.
 */
export function applyFlatHints(
  model: RegionModel,
  spaceBlocks: readonly TreeBlock[],
  flat: readonly FlatBlock[],
  warnings: string[],
): void {
  const used = new Set<TreeBlock>();
  const silent = new Set<ImportRegion>();
  for (const view of flat) {
    const first = view.spaces[0];
    if (first === undefined) continue;
    const block = spaceBlocks.find(
      (b) => !used.has(b) && b.spaces!.includes(first.name) && model.of(b.root).name === first.root,
    );
    if (block === undefined) {
      warnings.push(`FlatView at line ${view.line}: no address-space: ${first.name} block in the tree text`);
      continue;
    }
    const root = resolveViewRoot(model.of(block.root), view, warnings);
    if (root === null) continue;
    const placements: Placement[] = [];
    place(root, 0n, 0n, 1n << 64n, [], placements);
    const pieces: { start: bigint; end: bigint; order: number }[] = [];
    const byKey = new Map<string, Placement[]>();
    for (const p of placements) {
      const k = key(p.region.name, p.region.priority, p.origin);
      byKey.set(k, [...(byKey.get(k) ?? []), p]);
    }
    for (const range of view.ranges) {
      // A printed range may be merged from pieces rendered through different aliases
      // (PAM windows over one RAM block): take it piece by piece, each from the first
      // placement in render order that can have produced it.
      const candidates = byKey.get(key(range.name, range.priority, range.start - range.offset)) ?? [];
      const end = range.start + range.size;
      let pos = range.start;
      while (pos < end) {
        const p = candidates.find((c) => c.clipStart <= pos && pos < c.clipEnd);
        if (p === undefined) {
          warnings.push(`line ${range.line} of the flat view: no region of the tree can print ${range.name} here`);
          break;
        }
        attribute(p, range, pos, placements, warnings);
        const pieceEnd = p.clipEnd < end ? p.clipEnd : end;
        pieces.push({ start: pos, end: pieceEnd, order: placements.indexOf(p) });
        pos = pieceEnd;
      }
    }
    findSilentRegions(placements, pieces, silent);
  }
  // An i/o region that would have shown somewhere but never does has no content of its own.
  for (const r of silent) if (!r.seenInFlat) r.mustBeContainer = true;
}

/**
 * I/O regions that an `io` region would have filled somewhere in this view (an address
 * the view leaves unassigned, or one that a later placement in render order got).
 */
function findSilentRegions(
  placements: readonly Placement[],
  pieces: readonly { start: bigint; end: bigint; order: number }[],
  silent: Set<ImportRegion>,
): void {
  const sorted = [...pieces].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  placements.forEach((p, order) => {
    const r = p.region;
    if (r.type !== "i/o" || r.alias !== null || silent.has(r)) return;
    let pos = p.clipStart;
    for (const piece of sorted) {
      if (piece.end <= pos) continue;
      if (piece.start >= p.clipEnd) break;
      if (piece.start > pos || piece.order > order) {
        silent.add(r);
        return;
      }
      pos = piece.end;
      if (pos >= p.clipEnd) return;
    }
    if (pos < p.clipEnd) silent.add(r);
  });
}

/** QEMU's flat-view root, followed by name: which wrappers were skipped says they are containers. */
function resolveViewRoot(asRoot: ImportRegion, view: FlatBlock, warnings: string[]): ImportRegion | null {
  let r: ImportRegion | null = asRoot;
  while (r !== null && r.enabled && r.name !== view.viewRoot) {
    if (r.alias !== null) {
      r = r.aliasOffset === 0n && r.size >= r.alias.size ? r.alias : null;
      continue;
    }
    const enabled = r.children.filter((c) => c.enabled);
    if (r.type !== "i/o") break;
    r.mustBeContainer = true;
    if (enabled.length === 0) return null;
    const only = enabled.length === 1 ? enabled[0]! : null;
    r = only !== null && only.addr === 0n && r.size >= only.size ? only : null;
  }
  if (view.viewRoot === null) return null;
  if (r === null || r.name !== view.viewRoot || !r.enabled) {
    warnings.push(`FlatView at line ${view.line}: its root ${view.viewRoot} is not where the tree's root resolves`);
    return null;
  }
  return r;
}

function place(
  r: ImportRegion,
  base: bigint,
  clipStart: bigint,
  clipEnd: bigint,
  path: Placement["path"],
  out: Placement[],
): void {
  if (!r.enabled) return;
  const origin = base + r.addr;
  const end = origin + r.size;
  const cs = origin > clipStart ? origin : clipStart;
  const ce = end < clipEnd ? end : clipEnd;
  if (cs >= ce) return;
  const inner = [...path, { region: r, origin }];
  if (r.alias !== null) {
    place(r.alias, origin - r.aliasOffset - r.alias.addr, cs, ce, inner, out);
    return;
  }
  // Render order: list order, which puts higher priorities first (printed order is by address).
  const listed = [...r.children].sort((a, b) => b.priority - a.priority);
  for (const c of listed) place(c, origin, cs, ce, inner, out);
  out.push({ region: r, origin, clipStart: cs, clipEnd: ce, path });
}

function attribute(
  p: Placement,
  range: FlatRangeLine,
  at: bigint,
  all: readonly Placement[],
  warnings: string[],
): void {
  const r = p.region;
  r.seenInFlat = true;
  if (r.size === 0n) r.size = 1n;
  const onPath = [...p.path.map((e) => e.region), r];
  if (range.type === "rom" && r.type !== "rom" && !onPath.some((x) => x.readonly)) {
    // The tree prints each region's own type, so the read-only flag sits on an alias or
    // container on the way (PAM's `pam-rom`), or on a region whose type hides it.
    const alias = [...p.path].reverse().find((e) => e.region.alias !== null)?.region;
    const holder = alias ?? (r.type === "ram" ? p.path[p.path.length - 1]?.region : r) ?? r;
    holder.readonly = true;
  } else if (range.type !== "rom" && onPath.some((x) => x.readonly)) {
    warnings.push(`line ${range.line} of the flat view: ${range.name} is writable here but read-only elsewhere`);
  }
  // The region on the path won this address over every equal-priority sibling that
  // would have rendered here: it comes first in its container's list.
  for (let i = 0; i + 1 < onPath.length; i++) {
    const container = onPath[i]!;
    const winner = onPath[i + 1]!;
    if (container.alias !== null) continue;
    for (const s of container.children) {
      if (s === winner || !s.enabled || s.priority !== winner.priority) continue;
      const covers = all.some(
        (q) => q.clipStart <= at && at < q.clipEnd && (q.region === s || q.path.some((e) => e.region === s)),
      );
      if (covers) winner.before.add(s);
    }
  }
}
