import { formatError } from "../errors.js";
import type { ParsedTree, TreeBlock, TreeNode } from "./parse-tree.js";

/**
 * Which printed lines are the same region. QEMU prints a region once per place it is
 * seen: under its container, again as an address-space root, and again in a
 * `memory-region:` section when it is an alias target. Names are not unique, so lines
 * are matched by everything printed about them and their subtrees (a "signature").
 */
export interface Identities {
  /** The line that stands for the region printed at `node`. */
  canon(node: TreeNode): TreeNode;
  /** Alias lines (canonical) to the canonical root line of their target. */
  readonly aliasTargets: ReadonlyMap<TreeNode, TreeNode>;
  /** Canonical root line of each section, in section order. */
  readonly sectionTargets: readonly TreeNode[];
  readonly warnings: readonly string[];
}

function preorder(node: TreeNode, out: TreeNode[] = []): TreeNode[] {
  out.push(node);
  for (const c of node.children) preorder(c, out);
  return out;
}

export function resolveIdentities(tree: ParsedTree): Identities {
  const warnings: string[] = [];
  const signatures = new Map<TreeNode, string>();
  const signature = (n: TreeNode): string => {
    let s = signatures.get(n);
    if (s === undefined) {
      const rel = n.parent === null ? n.start : BigInt.asUintN(64, n.start - n.parent.start);
      const alias = n.alias === null ? "" : `${n.alias.target}@${n.alias.offset}-${n.alias.end}`;
      const head = [
        n.name,
        rel,
        BigInt.asUintN(64, n.end - n.start),
        n.priority,
        n.nonvolatile,
        n.type,
        n.disabled,
        alias,
      ];
      s = `${head.join("\u0001")}{${n.children.map(signature).join("\u0002")}}`;
      signatures.set(n, s);
    }
    return s;
  };

  const link = new Map<TreeNode, TreeNode>();
  const canon = (n: TreeNode): TreeNode => {
    let c = n;
    for (let next = link.get(c); next !== undefined; next = link.get(c)) c = next;
    return c;
  };
  const unify = (from: TreeNode, to: TreeNode): void => {
    link.set(from, to);
    from.children.forEach((c, i) => {
      unify(c, to.children[i]!);
    });
  };

  const spaceBlocks = tree.blocks.filter((b) => b.spaces !== null);
  const sections = tree.blocks.filter((b) => b.spaces === null);
  const mapped = new Map<string, TreeNode[]>();
  const index = (block: TreeBlock, withRoot: boolean): void => {
    for (const n of preorder(block.root)) {
      if (n.parent === null && !withRoot) continue;
      const list = mapped.get(signature(n)) ?? [];
      list.push(n);
      mapped.set(signature(n), list);
    }
  };
  for (const b of spaceBlocks) index(b, false);
  // An address space whose root is also mapped somewhere prints that subtree again.
  for (const b of spaceBlocks) {
    const twin = mapped.get(signature(b.root))?.find((n) => canon(n) === n);
    if (twin !== undefined) unify(b.root, twin);
  }
  for (const b of spaceBlocks) {
    const list = mapped.get(signature(b.root)) ?? [];
    if (!list.includes(b.root)) mapped.set(signature(b.root), [...list, b.root]);
  }
  for (const s of sections) index(s, false);

  // A section is the region it looks like, if that region is printed elsewhere and is
  // not already another section (sections are deduplicated by identity); otherwise it
  // is a region with no container of its own.
  const claimed = new Set<TreeNode>();
  const sectionTargets: TreeNode[] = [];
  for (const s of sections) {
    const own = new Set(preorder(s.root));
    const twin = (mapped.get(signature(s.root)) ?? []).find((n) => !own.has(n) && !claimed.has(canon(n)));
    if (twin !== undefined) unify(s.root, twin);
    claimed.add(canon(s.root));
    sectionTargets.push(s.root);
  }

  // Replay QEMU's queue of alias targets in printing order: an alias names either a
  // target already queued or the next section; without -D, disabled aliases queue
  // targets unseen, so a name may skip sections ahead.
  const aliasTargets = new Map<TreeNode, TreeNode>();
  const queued: number[] = [];
  const fits = (alias: TreeNode, j: number): boolean => {
    const t = canon(sectionTargets[j]!);
    const size = BigInt.asUintN(64, t.end - t.start) + 1n;
    return t.type === alias.type && BigInt.asUintN(64, alias.alias!.end - alias.alias!.offset) < size;
  };
  for (const block of tree.blocks) {
    for (const node of preorder(block.root)) {
      const n = canon(node);
      if (n.alias === null || aliasTargets.has(n)) continue;
      const name = n.alias.target;
      const existing = queued.filter((j) => sections[j]!.header === name);
      let next = -1;
      for (let j = queued.length; j < sections.length; j++) {
        if (queued.includes(j)) continue;
        if (sections[j]!.header === name) {
          next = j;
          break;
        }
      }
      let chosen = existing.find((j) => fits(n, j));
      if (chosen === undefined && next >= 0) chosen = next;
      if (chosen === undefined) chosen = existing[0];
      if (chosen === undefined) {
        formatError(
          "E_MTREE_SYNTAX",
          `line ${n.line}`,
          `alias ${n.name} names @${name}, but no memory-region: ${name} section follows`,
        );
      }
      if (!queued.includes(chosen)) {
        for (let j = queued.length; j < chosen; j++) {
          if (!queued.includes(j)) {
            queued.push(j);
            warnings.push(
              `memory-region: ${sections[j]!.header} is queued by an alias the text does not show (a disabled alias left out without -D)`,
            );
          }
        }
        queued.push(chosen);
      }
      aliasTargets.set(n, canon(sectionTargets[chosen]!));
    }
  }
  return { canon, aliasTargets, sectionTargets: sectionTargets.map(canon), warnings };
}
