import { SIZE_2_64, wrap64 } from "@memtopo/region-tree";
import type { Identities } from "./identity.js";
import type { ParsedTree, TreeNode, TypeWord } from "./parse-tree.js";

/** A region recovered from the text, with what the flat view adds to it. */
export interface ImportRegion {
  /** Its position in {@link RegionModel.regions}: the row of the walks' tables, and its id in the file. */
  readonly index: number;
  readonly node: TreeNode;
  readonly name: string;
  readonly priority: number;
  readonly nonvolatile: boolean;
  readonly type: TypeWord;
  readonly enabled: boolean;
  readonly addr: bigint;
  size: bigint;
  /** The size of a `start-start` line is settled by the flat view (0 or 1), not assumed. */
  sizeSettled: boolean;
  readonly parent: ImportRegion | null;
  /** In printed order (by address, then priority, then list order). */
  readonly children: ImportRegion[];
  alias: ImportRegion | null;
  readonly aliasOffset: bigint;
  readonly: boolean;
  /** It shows up in a flat view: an `i/o` region with subregions fills their gaps. */
  seenInFlat: boolean;
  /** A view root resolves through it or to nothing at it: it has no content of its own. */
  mustBeContainer: boolean;
  /** A view root resolution stops at it although a container would have been skipped: it renders itself. */
  mustBeIo: boolean;
  /**
   * Siblings this one must precede in the list (it wins an overlap in a flat view); null while there are
   * none, as for nearly every region: a set per region was a fifth of a large import's heap.
   */
  before: Set<ImportRegion> | null;
}

export interface RegionModel {
  readonly regions: readonly ImportRegion[];
  readonly of: (node: TreeNode) => ImportRegion;
  /** Regions without a container (address-space roots and parentless alias targets). */
  readonly tops: readonly ImportRegion[];
}

/** What the flat view may learn of a region, one bit each in {@link LineRegion}'s flags. */
const SIZE_SETTLED = 1;
const READONLY = 2;
const SEEN_IN_FLAT = 4;
const MUST_BE_CONTAINER = 8;
const MUST_BE_IO = 16;

/** What a leaf holds: one frozen list for all of them (a list each was 32 bytes per line of a large dump). */
const NO_CHILDREN: ImportRegion[] = Object.freeze([]) as unknown as ImportRegion[];

/**
 * A region read from its canonical line: what the line prints is read from the line when asked, not copied, and
 * the flags are bits of one number. A large dump has a region per line; the copied fields, the bigints made for
 * them and a map from lines to regions were 300 bytes a region.
 */
class LineRegion implements ImportRegion {
  readonly index: number;
  readonly node: TreeNode;
  readonly parent: ImportRegion | null;
  children: ImportRegion[] = NO_CHILDREN;
  alias: ImportRegion | null = null;
  before: Set<ImportRegion> | null = null;
  /** Set once something else than the line says it (the flat view, a window that must fit). */
  #size: bigint | null = null;
  #flags = 0;

  constructor(index: number, node: TreeNode, parent: ImportRegion | null) {
    this.index = index;
    this.node = node;
    this.parent = parent;
  }

  get name(): string {
    return this.node.name;
  }
  get priority(): number {
    return this.node.priority;
  }
  get nonvolatile(): boolean {
    return this.node.nonvolatile;
  }
  get type(): TypeWord {
    return this.node.type;
  }
  get enabled(): boolean {
    return !this.node.disabled;
  }
  get addr(): bigint {
    const node = this.node;
    return node.parent === null ? node.start : wrap64(node.start - node.parent.start);
  }
  get aliasOffset(): bigint {
    return this.node.alias?.offset ?? 0n;
  }
  /**
   * A `start-start` line is a 1-byte region, or an empty one; QEMU keeps disabled regions empty where that matters
   * (q35 `tseg-blackhole`), so a disabled one is taken as empty.
   */
  get size(): bigint {
    if (this.#size !== null) return this.#size;
    const node = this.node;
    const span = wrap64(node.end - node.start);
    if (span === 0n && node.disabled) return 0n;
    const size = span + 1n;
    return size > SIZE_2_64 ? SIZE_2_64 : size;
  }
  set size(size: bigint) {
    this.#size = size;
  }
  get sizeSettled(): boolean {
    return (this.#flags & SIZE_SETTLED) !== 0;
  }
  set sizeSettled(on: boolean) {
    this.#flag(SIZE_SETTLED, on);
  }
  get readonly(): boolean {
    return (this.#flags & READONLY) !== 0;
  }
  set readonly(on: boolean) {
    this.#flag(READONLY, on);
  }
  get seenInFlat(): boolean {
    return (this.#flags & SEEN_IN_FLAT) !== 0;
  }
  set seenInFlat(on: boolean) {
    this.#flag(SEEN_IN_FLAT, on);
  }
  get mustBeContainer(): boolean {
    return (this.#flags & MUST_BE_CONTAINER) !== 0;
  }
  set mustBeContainer(on: boolean) {
    this.#flag(MUST_BE_CONTAINER, on);
  }
  get mustBeIo(): boolean {
    return (this.#flags & MUST_BE_IO) !== 0;
  }
  set mustBeIo(on: boolean) {
    this.#flag(MUST_BE_IO, on);
  }

  #flag(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }
}

/**
 * One region per canonical line (see {@link LineRegion} for its size). Regions are found by the line's
 * position in the text (`seq`), in a table: a map of a million lines was a fifth of the model's cost.
 */
export function buildModel(tree: ParsedTree, ids: Identities): RegionModel {
  const bySeq = new Int32Array(tree.lines).fill(-1);
  const regions: ImportRegion[] = [];
  const tops: ImportRegion[] = [];
  const nodes: TreeNode[] = [];
  const parents: (ImportRegion | null)[] = [];
  // Depth first with an explicit stack (two parallel lists), each region before its subregions (the order ids
  // are given in).
  const make = (top: TreeNode): void => {
    nodes.push(top);
    parents.push(null);
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const parent = parents.pop()!;
      const r = new LineRegion(regions.length, node, parent);
      bySeq[seqOf(node)] = r.index;
      regions.push(r);
      if (parent === null) {
        // A top may receive a hidden alias (queueHiddenTargets): a list of its own.
        r.children = [];
        tops.push(r);
      } else {
        if (parent.children === NO_CHILDREN) (parent as LineRegion).children = [];
        parent.children.push(r);
      }
      for (let i = node.children.length - 1; i >= 0; i--) {
        nodes.push(node.children[i]!);
        parents.push(r);
      }
    }
  };
  for (const block of tree.blocks) {
    const root = ids.canon(block.root);
    if (bySeq[seqOf(root)] === -1 && root === block.root) make(root);
  }
  const of = (node: TreeNode): ImportRegion => regions[bySeq[seqOf(ids.canon(node))]!]!;
  for (const [aliasNode, target] of ids.aliasTargets) of(aliasNode).alias = of(target);
  return { regions, of, tops };
}

/** A parsed line's row (parseTreeText numbers every line it makes). */
function seqOf(node: TreeNode): number {
  return node.seq!;
}
