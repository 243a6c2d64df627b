import { escapeText, type MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { SubregionIndex } from "./subregion-index.js";

/** The part of a FlatRange the picture reads. */
export interface PictureFlatRange {
  readonly mr: MemoryRegion;
  readonly start: bigint;
  readonly size: bigint;
  readonly offsetInRegion: bigint;
  readonly readonly: boolean;
}

/** The part of a FlatView the picture reads; spaces that share a view share this object. */
export interface PictureFlatView {
  readonly root: MemoryRegion | null;
  readonly ranges: readonly PictureFlatRange[];
}

/** What the picture needs of an address space; a MemorySystem's AddressSpace fits. */
export interface PictureAddressSpace {
  readonly name: string;
  readonly root: MemoryRegion | null;
  readonly currentMap: PictureFlatView;
}

/** Colour classes: the word `info mtree -f` prints for a range. */
export type RangeKind = "ram" | "rom" | "romd" | "ramd" | "i/o";

/** One step of the path from a view root down to the region that serves an address. */
export interface PathStep {
  readonly name: string;
  readonly priority: number;
  readonly alias: boolean;
}

/** A flat range with what the tree says about it. */
export interface PictureRange {
  readonly start: bigint;
  readonly size: bigint;
  readonly name: string;
  readonly kind: RangeKind;
  readonly offsetInRegion: bigint;
  /** The aliases crossed on the way, outermost first (empty when the range is reached directly). */
  readonly via: readonly string[];
  /** Root first, the serving region last. */
  readonly path: readonly PathStep[];
  /**
   * The priority that won at the top of the tree: the priority of the view root's child on the
   * path (0 when the root itself serves the range).
   */
  readonly priority: number;
  /** The priority `info mtree -f` prints for the range: its serving region's own (`fr->mr->priority`). */
  readonly flatPriority: number;
  /**
   * What the winner hides at the range's first byte: the next region in QEMU's render order
   * that is not on the winner's own path (a gap-filling container is cut, not hidden).
   */
  readonly beneath: { readonly name: string; readonly kind: RangeKind; readonly priority: number } | null;
}

/** One lane: a distinct FlatView and the address spaces that share it. */
export interface PictureLane {
  readonly spaces: readonly string[];
  readonly rootName: string | null;
  /** The extent the lane is drawn over: [0, root size), or [0, 2^64) for an empty view. */
  readonly end: bigint;
  readonly ranges: readonly PictureRange[];
}

/**
 * Groups address spaces by the FlatView object they share (one lane per distinct view,
 * in the order views are first used) and annotates each range with its path through the
 * tree, the aliases it went through and what it hides.
 */
export function pictureLanes(spaces: readonly PictureAddressSpace[]): PictureLane[] {
  const views = new Map<PictureFlatView, string[]>();
  const index = new SubregionIndex();
  for (const as of spaces) {
    const names = views.get(as.currentMap) ?? [];
    names.push(escapeText(as.name));
    views.set(as.currentMap, names);
  }
  return [...views].map(([view, names]) => ({
    spaces: names,
    rootName: view.root === null ? null : nameOf(view.root),
    end: view.root === null ? SIZE_2_64 : viewEnd(view.root),
    ranges: view.ranges.map((range) => annotate(view.root!, range, index)),
  }));
}

function viewEnd(root: MemoryRegion): bigint {
  const end = root.addr + root.size;
  return end > SIZE_2_64 ? SIZE_2_64 : end;
}

function kindOf(mr: MemoryRegion, readonly: boolean): RangeKind {
  return readonly ? "rom" : mr.type();
}

/** The regions from a root down to one that serves an address, and whether each was an alias. */
export type RegionPath = readonly { readonly mr: MemoryRegion; readonly alias: boolean }[];

/** A step of a path, linked to the step above it: paths down a deep tree share their upper steps. */
interface PathNode {
  readonly mr: MemoryRegion;
  readonly alias: boolean;
  readonly up: PathNode | null;
  readonly length: number;
}

function pathOf(node: PathNode): RegionPath {
  const steps = new Array<{ mr: MemoryRegion; alias: boolean }>(node.length);
  for (let n: PathNode | null = node; n !== null; n = n.up) steps[n.length - 1] = { mr: n.mr, alias: n.alias };
  return steps;
}

/**
 * Every region that could serve `offset` of `mr`, in the order QEMU's render lets them
 * claim a byte: subregions in list order, depth first, then the region's own content.
 * The first is the winner; the next is what the winner hides.
 */
export function* regionsAt(
  mr: MemoryRegion,
  offset: bigint,
  steps: RegionPath = [],
  index: SubregionIndex = new SubregionIndex(),
): Generator<RegionPath> {
  let above = null as PathNode | null;
  for (const s of steps) above = { mr: s.mr, alias: s.alias, up: above, length: (above?.length ?? 0) + 1 };
  for (const node of claimants(mr, offset, above, index)) yield pathOf(node);
}

/** A region to visit at an offset below a path, or a path whose last region claims the offset. */
type Pending =
  | { readonly mr: MemoryRegion; readonly offset: bigint; readonly up: PathNode | null }
  | { readonly claim: PathNode };

/**
 * The walk behind {@link regionsAt}, with an explicit stack instead of recursion: a tree may be as
 * deep as its builder made it (a chain of 100 000 containers renders), and so may this walk.
 */
function* claimants(
  root: MemoryRegion,
  rootOffset: bigint,
  above: PathNode | null,
  index: SubregionIndex,
): Generator<PathNode> {
  const stack: Pending[] = [{ mr: root, offset: rootOffset, up: above }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ("claim" in item) {
      yield item.claim;
      continue;
    }
    const { mr, offset, up } = item;
    if (!mr.enabled || offset < 0n || offset >= mr.size) continue;
    const length = (up?.length ?? 0) + 1;
    if (mr.alias !== null) {
      // An alias shows its target from `aliasOffset` on, whatever the target's own `addr`.
      stack.push({ mr: mr.alias, offset: offset + mr.aliasOffset, up: { mr, alias: true, up, length } });
      continue;
    }
    const here: PathNode = { mr, alias: false, up, length };
    // Popped last to first: the region's own content after every subregion, subregions in list order.
    if (mr.terminates) stack.push({ claim: here });
    const children = index.at(mr, offset);
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!;
      stack.push({ mr: child, offset: offset - child.addr, up: here });
    }
  }
}

function annotate(root: MemoryRegion, range: PictureFlatRange, index: SubregionIndex): PictureRange {
  const found = claimants(root, range.start - root.addr, null, index);
  const first = found.next();
  const winnerNode = first.done ? undefined : first.value;
  const winner = winnerNode === undefined ? undefined : pathOf(winnerNode);
  // What an overlap hides: the next claimant that is not an ancestor on the winner's own path
  // (a container that fills its gaps is cut by its children, not hidden by them). The same
  // region reached another way (RAM under a PAM alias of itself) is hidden. The walk shares the
  // steps of a path among its claimants, so an ancestor is one of the winner's own steps.
  let ancestors: Set<PathNode> | undefined;
  let hidden: RegionPath | undefined;
  for (const candidate of found) {
    if (ancestors === undefined) {
      ancestors = new Set();
      for (let n = winnerNode?.up ?? null; n !== null; n = n.up) ancestors.add(n);
    }
    if (!ancestors.has(candidate)) {
      hidden = pathOf(candidate);
      break;
    }
  }

  // The walk mirrors the renderer; should a future rule make them disagree, trust the view.
  const steps = winner !== undefined && winner.at(-1)?.mr === range.mr ? winner : [{ mr: range.mr, alias: false }];
  const path = steps.map((s) => ({ name: nameOf(s.mr), priority: s.mr.priority, alias: s.alias }));
  const via = steps.filter((s) => s.alias).map((s) => nameOf(s.mr));
  const top = steps.length > 1 ? steps[1]!.mr.priority : 0;
  let beneath: PictureRange["beneath"] = null;
  if (hidden !== undefined) {
    const mr = hidden.at(-1)!.mr;
    const ro = hidden.some((s) => s.mr.readonly);
    beneath = {
      name: nameOf(mr),
      kind: kindOf(mr, ro),
      priority: hidden.length > 1 ? hidden[1]!.mr.priority : 0,
    };
  }
  return {
    start: range.start,
    size: range.size,
    name: nameOf(range.mr),
    kind: kindOf(range.mr, range.readonly),
    offsetInRegion: range.offsetInRegion,
    via,
    path,
    priority: top,
    flatPriority: range.mr.priority,
    beneath,
  };
}

/** A region's name as every output writes it (control characters escaped, see escapeText); `(null)` without one. */
function nameOf(mr: MemoryRegion): string {
  return mr.name === null ? "(null)" : escapeText(mr.name);
}
