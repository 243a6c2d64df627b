import type { RegionModel } from "./model.js";
import type { FlatBlock } from "./parse-flat.js";
import type { TreeBlock } from "./parse-tree.js";

type FlatSpace = FlatBlock["spaces"][number];

/**
 * The tree's `address-space:` blocks, for matching the ` AS` lines of the flat views: a block holds every space
 * with its root, so a flat view's space is one of the block's names not met yet, under a root of the same name
 * (and alias target). The blocks are kept by what an ` AS` line says of them, in tree order, each leaving its
 * list when its last space of that name is met: searching every block per space cost spaces^2 (5 000 spaces
 * with `-f`: 1.5 s).
 */
export class SpaceBlocks {
  readonly #blocks: readonly TreeBlock[];
  /** Per block, how many of each name are not met yet. */
  readonly #left = new Map<TreeBlock, Map<string, number>>();
  /** By ` AS` line (name, root name, alias target name): the blocks with that name left, in tree order. */
  readonly #byLine = new Map<string, Set<TreeBlock>>();
  /** Per ` AS` line, how far the view being read has searched its blocks, and the one it found. */
  readonly #scans = new Map<string, { view: object; rest: Iterator<TreeBlock>; found: TreeBlock | undefined }>();

  constructor(blocks: readonly TreeBlock[], model: RegionModel) {
    this.#blocks = blocks;
    for (const b of blocks) {
      const counts = new Map<string, number>();
      for (const name of b.spaces!) counts.set(name, (counts.get(name) ?? 0) + 1);
      this.#left.set(b, counts);
      const root = model.of(b.root);
      for (const name of counts.keys()) {
        const key = lineKey(name, root.name, root.alias?.name ?? null);
        const same = this.#byLine.get(key);
        if (same === undefined) this.#byLine.set(key, new Set([b]));
        else same.add(b);
      }
    }
  }

  /**
   * The first block in tree order that holds `space` and satisfies `prefer`, else the first that holds it, or
   * undefined; the space is then met there. `view` names the flat view being read: while it is read, `prefer`
   * gives each block the same answer (nothing is decided until all its spaces are matched), so a block that
   * failed it once is not asked again for that view (asking every look-alike block per space cost spaces^2).
   */
  take(space: FlatSpace, view: object, prefer: (b: TreeBlock) => boolean): TreeBlock | undefined {
    const key = lineKey(space.name, space.root, space.alias);
    const same = this.#byLine.get(key);
    if (same === undefined) return undefined;
    let scan = this.#scans.get(key);
    if (scan === undefined || scan.view !== view) {
      // A live iterator: it skips the blocks deleted since, and stops at the first one `prefer` accepts.
      scan = { view, rest: same.values(), found: undefined };
      this.#scans.set(key, scan);
    }
    if (scan.found !== undefined && !same.has(scan.found)) scan.found = undefined;
    while (scan.found === undefined) {
      const next = scan.rest.next();
      if (next.done === true) break;
      if (prefer(next.value)) scan.found = next.value;
    }
    const block = scan.found ?? same.values().next().value;
    if (block === undefined) return undefined;
    const counts = this.#left.get(block)!;
    const n = counts.get(space.name)! - 1;
    counts.set(space.name, n);
    if (n === 0) same.delete(block);
    return block;
  }

  /** The first space, in tree order, that no flat view met (of a block, in the order its names are printed). */
  firstUnmet(): { block: TreeBlock; name: string } | null {
    for (const b of this.#blocks) {
      const left = this.#left.get(b)!;
      const total = new Map<string, number>();
      for (const name of b.spaces!) total.set(name, (total.get(name) ?? 0) + 1);
      // Meeting a name takes its first occurrence not met yet: occurrences 1 to total - left of it are met.
      const seen = new Map<string, number>();
      for (const name of b.spaces!) {
        const k = (seen.get(name) ?? 0) + 1;
        seen.set(name, k);
        if (k > total.get(name)! - left.get(name)!) return { block: b, name };
      }
    }
    return null;
  }
}

/** What an ` AS` line says of a space, as one key (JSON of the three: no two triples share one). */
function lineKey(name: string, root: string, alias: string | null): string {
  return JSON.stringify([name, root, alias]);
}
