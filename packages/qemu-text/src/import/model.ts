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

/**
 * One region per canonical line. A `start-start` line is a 1-byte region, or an empty
 * one; QEMU keeps disabled regions empty where that matters (q35 `tseg-blackhole`),
 * so a disabled one is taken as empty.
 */
export function buildModel(tree: ParsedTree, ids: Identities): RegionModel {
  const byNode = new Map<TreeNode, ImportRegion>();
  const regions: ImportRegion[] = [];
  const tops: ImportRegion[] = [];
  // Depth first with an explicit stack, each region before its subregions (the order ids are given in).
  const make = (top: TreeNode): void => {
    const stack: { node: TreeNode; parent: ImportRegion | null }[] = [{ node: top, parent: null }];
    while (stack.length > 0) {
      const { node, parent } = stack.pop()!;
      const span = wrap64(node.end - node.start);
      let size = span + 1n;
      if (span === 0n && node.disabled) size = 0n;
      if (size > SIZE_2_64) size = SIZE_2_64;
      const r: ImportRegion = {
        index: regions.length,
        node,
        name: node.name,
        priority: node.priority,
        nonvolatile: node.nonvolatile,
        type: node.type,
        enabled: !node.disabled,
        addr: node.parent === null ? node.start : wrap64(node.start - node.parent.start),
        size,
        sizeSettled: false,
        parent,
        children: [],
        alias: null,
        aliasOffset: node.alias?.offset ?? 0n,
        readonly: false,
        seenInFlat: false,
        mustBeContainer: false,
        mustBeIo: false,
        before: null,
      };
      byNode.set(node, r);
      regions.push(r);
      if (parent === null) tops.push(r);
      else parent.children.push(r);
      for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, parent: r });
    }
  };
  for (const block of tree.blocks) {
    const root = ids.canon(block.root);
    if (!byNode.has(root) && root === block.root) make(root);
  }
  const of = (node: TreeNode): ImportRegion => byNode.get(ids.canon(node))!;
  for (const [aliasNode, target] of ids.aliasTargets) of(aliasNode).alias = of(target);
  return { regions, of, tops };
}
