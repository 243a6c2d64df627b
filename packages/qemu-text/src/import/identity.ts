import { wrap64 } from "@memtopo/region-tree";
import { formatError } from "../errors.js";
import type { ParsedTree, TreeBlock, TreeNode } from "./parse-tree.js";

/**
 * Which printed lines are the same region. QEMU prints a region once per place it is
 * seen: under its container, and again in a `memory-region:` section when it is an
 * alias target. Names are not unique, so lines are matched by everything printed about
 * them and their subtrees (a "signature"), and sections by replaying QEMU's queue.
 */
export interface Identities {
  /** The line that stands for the region printed at `node`. */
  canon(node: TreeNode): TreeNode;
  /** Alias lines (canonical) to the canonical root line of their target. */
  readonly aliasTargets: ReadonlyMap<TreeNode, TreeNode>;
  /** Sections that no printed alias queues (plain `info mtree` hides disabled aliases). */
  readonly hiddenTargets: readonly TreeNode[];
  readonly warnings: readonly string[];
  /**
   * Other ways the text can be read, nearest first: an alias names its target by name alone, so of two sections
   * of that name it may be either the one already queued or the next one. Only a flat view can tell them
   * apart; none is looked at unless asked.
   */
  alternatives(): Iterable<Identities>;
  /** Some alias could name another section than the one taken: there are alternatives. */
  readonly ambiguous: boolean;
}

/** The lines of a subtree in printed order, with an explicit stack. */
function preorder(node: TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

/**
 * Everything printed about a line and its subtree, as a number: equal numbers, equal subtrees. Each
 * distinct subtree gets a number from its own line and its children's numbers, so a key is a line and
 * a number per child. Keys holding the children's whole text grew with size times depth (the keys of a 100 MB dump
 * were larger than the dump). Iterative: a subtree is as deep as its text.
 */
function signatures(): (n: TreeNode) => number {
  const memo = new Map<TreeNode, number>();
  const numbers = new Map<string, number>();
  const own = (n: TreeNode): number => {
    const rel = n.parent === null ? n.start : wrap64(n.start - n.parent.start);
    const alias = n.alias === null ? "" : `${n.alias.target}@${n.alias.offset}-${n.alias.end}`;
    // JSON: a name may hold any character, and must not run into the next field.
    const head = [n.name, `${rel}`, `${wrap64(n.end - n.start)}`, n.priority, n.nonvolatile, n.type, n.disabled, alias];
    let kids = "";
    for (const c of n.children) kids += `${memo.get(c)!},`;
    const key = `${JSON.stringify(head)}{${kids}}`;
    let s = numbers.get(key);
    if (s === undefined) {
      s = numbers.size;
      numbers.set(key, s);
    }
    memo.set(n, s);
    return s;
  };
  return (top: TreeNode): number => {
    const done = memo.get(top);
    if (done !== undefined) return done;
    const stack: { n: TreeNode; next: number }[] = [{ n: top, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const c = frame.n.children[frame.next++];
      if (c === undefined) {
        own(frame.n);
        stack.pop();
      } else if (!memo.has(c)) stack.push({ n: c, next: 0 });
    }
    return memo.get(top)!;
  };
}

/**
 * Which of the sections an alias could name the walk takes, by decision (one per alias, in text order): absent,
 * the first queued section that fits, else the next one; {@link NEXT}, the next section; k, the k-th (from 0)
 * of the queued sections that fit and then the next one.
 */
type Choices = ReadonlyMap<number, number>;
const NEXT = -1;

/**
 * How much of the text the readings looked at for one that a flat view renders may walk, in lines: a few hundred
 * readings of a small text (what random machines of six aliases over three look-alike targets need), a few of a
 * large one, never every combination. A text without two sections of one name has no other reading.
 */
const ALTERNATIVE_LINES = 1 << 20;
const ALTERNATIVE_WALKS = { min: 8, max: 256 };

interface Attempt {
  readonly link: Map<TreeNode, TreeNode>;
  readonly sectionOf: Map<TreeNode, number>;
  readonly decided: (TreeNode | null)[];
  readonly warnings: string[];
  /** Decisions that took an already queued target although the next section had the name too. */
  readonly ambiguous: number[];
  /** Decisions that took one of several sections the alias may name, with the rank taken (a later one may fit). */
  readonly open: { readonly decision: number; readonly rank: number }[];
  /** A rank asked for that the alias has no section for. */
  readonly impossible: boolean;
  readonly hidden: number[];
  /** Every section queued and every alias window inside its target. */
  readonly complete: boolean;
}

export function resolveIdentities(tree: ParsedTree): Identities {
  const signature = signatures();
  const sections = tree.blocks.filter((b) => b.spaces === null);
  // Candidates for a section's identity, by signature. An address-space root is taken as a
  // region without a container: QEMU's spaces are rooted at parentless regions in every
  // capture, and a look-alike mapped region would change which spaces share a view.
  const mapped = new Map<number, TreeNode[]>();
  // Only a line named as a section's root can be that section: the others are not signed at all (a dump
  // without sections signs nothing).
  const sectionNames = new Set(sections.map((s) => s.root.name));
  let lines = 0;
  for (const block of tree.blocks) {
    for (const n of preorder(block.root)) {
      lines++;
      if ((n.parent === null && block.spaces === null) || !sectionNames.has(n.name)) continue;
      // Appended in place: copying the list per node was quadratic in a signature's nodes.
      const key = signature(n);
      const same = mapped.get(key);
      if (same === undefined) mapped.set(key, [n]);
      else same.push(n);
    }
  }
  // Without -D a hidden disabled alias may queue a target unseen; with -D every section
  // must be queued by a printed alias, which can undo an ambiguous choice.
  let attempt = walk(tree, sections, mapped, signature, new Map());
  const preferNew = new Map<number, number>();
  for (let tries = 0; !attempt.complete && tries < 32; tries++) {
    const flip = [...attempt.ambiguous].reverse().find((d) => !preferNew.has(d));
    if (flip === undefined) break;
    preferNew.set(flip, NEXT);
    attempt = walk(tree, sections, mapped, signature, preferNew);
  }
  const first = attempt;
  const again = (choices: Choices): Attempt => walk(tree, sections, mapped, signature, choices);
  const walks = Math.min(ALTERNATIVE_WALKS.max, Math.max(ALTERNATIVE_WALKS.min, Math.floor(ALTERNATIVE_LINES / lines)));
  return identitiesOf(sections, first, () => alternatives(preferNew, first, again, sections, walks));
}

/**
 * Complete readings that take another section for some aliases than `choices` did, breadth first: one choice
 * moved one rank further, then two, so the readings nearest today's come first, within `budget` walks.
 */
function* alternatives(
  choices: Choices,
  attempt: Attempt,
  walkWith: (choices: Choices) => Attempt,
  sections: readonly TreeBlock[],
  budget: number,
): Generator<Identities> {
  const seen = new Set<string>([choicesKey(choices)]);
  const queue: { choices: Choices; attempt: Attempt }[] = [{ choices, attempt }];
  let walks = 0;
  for (let head = 0; head < queue.length; head++) {
    const from = queue[head]!;
    for (const { decision, rank } of from.attempt.open) {
      if (walks >= budget) return;
      const next = new Map(from.choices);
      next.set(decision, rank + 1);
      const key = choicesKey(next);
      if (seen.has(key)) continue;
      seen.add(key);
      walks++;
      const tried = walkWith(next);
      if (tried.impossible) continue;
      queue.push({ choices: next, attempt: tried });
      if (tried.complete) yield identitiesOf(sections, tried, () => []);
    }
  }
}

function choicesKey(choices: Choices): string {
  return [...choices].sort((x, y) => x[0] - y[0]).join(";");
}

function identitiesOf(
  sections: readonly TreeBlock[],
  attempt: Attempt,
  others: () => Iterable<Identities>,
): Identities {
  const { link, sectionOf, decided } = attempt;
  const canon = (n: TreeNode): TreeNode => {
    let c = n;
    for (let next = link.get(c); next !== undefined; next = link.get(c)) c = next;
    return c;
  };
  const aliasTargets = new Map<TreeNode, TreeNode>();
  for (const [n, j] of sectionOf) aliasTargets.set(n, canon(decided[j] ?? sections[j]!.root));
  const hiddenTargets = attempt.hidden.map((j) => canon(decided[j] ?? sections[j]!.root));
  return {
    canon,
    aliasTargets,
    hiddenTargets,
    warnings: attempt.warnings,
    alternatives: others,
    ambiguous: attempt.open.length > 0,
  };
}

/**
 * Replays QEMU's printing in text order. An alias names either a target already queued or
 * the next section; without -D, disabled aliases queue targets unseen, so a name may skip
 * sections ahead. A section is the region it looks like, if that region is printed
 * elsewhere, is not already another section (sections are deduplicated by identity) and
 * would not reach itself through aliases; otherwise it has no container of its own.
 */
function walk(
  tree: ParsedTree,
  sections: readonly TreeBlock[],
  mapped: ReadonlyMap<number, readonly TreeNode[]>,
  signature: (n: TreeNode) => number,
  choices: Choices,
): Attempt {
  const warnings: string[] = [];
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
  const sectionOf = new Map<TreeNode, number>();
  const decided: (TreeNode | null)[] = sections.map(() => null);
  const identity = (j: number): TreeNode => decided[j] ?? sections[j]!.root;
  const successors = (n: TreeNode): TreeNode[] => {
    const j = sectionOf.get(n);
    return j === undefined ? [...n.children] : [...n.children, identity(j)];
  };
  /** Whether following subregions and resolved alias targets from `from` (excluded) meets `goal`. */
  const reaches = (from: TreeNode, goal: TreeNode): boolean => {
    const stack = successors(canon(from));
    const seen = new Set<TreeNode>();
    while (stack.length > 0) {
      const n = canon(stack.pop()!);
      if (n === goal) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      // One by one, not push(...): a region may have a million subregions.
      for (const next of successors(n)) stack.push(next);
    }
    return false;
  };
  const queued: number[] = [];
  // Sections by header, in text order: queued sections are always the first `queued.length`, so those of a
  // name already queued are a prefix of its list and the next one is found by a binary search. Filtering the
  // queue per alias cost n^2 for a text of n sections (an alias chain of 20 000 took 2 s of 3).
  const byHeader = new Map<string, number[]>();
  sections.forEach((section, k) => {
    const same = byHeader.get(section.header);
    if (same === undefined) byHeader.set(section.header, [k]);
    else same.push(k);
  });
  const ambiguous: number[] = [];
  const open: { decision: number; rank: number }[] = [];
  let impossible = false;
  const hidden: number[] = [];
  let decision = 0;
  let misfits = 0;
  const fits = (alias: TreeNode, j: number): boolean => {
    // A section not reached yet that looks exactly like this alias would be the alias itself.
    if (decided[j] === null && signature(sections[j]!.root) === signature(alias)) return false;
    const t = canon(identity(j));
    const size = wrap64(t.end - t.start) + 1n;
    // The window's last byte (offset + size - 1, as printed) must lie inside the target.
    const last = alias.alias!.end >= alias.alias!.offset ? alias.alias!.end : alias.alias!.offset;
    return t.type === alias.type && last < size && t !== alias && !reaches(t, alias);
  };
  const resolveAlias = (n: TreeNode): void => {
    const name = n.alias!.target;
    const same = byHeader.get(name) ?? [];
    const existing = queuedPrefix(same, queued.length);
    const next = existing < same.length ? same[existing]! : -1;
    const d = decision++;
    // The next section asked for when there is none left: the first queued one that fits, as by default.
    const asked = choices.get(d);
    const rank = asked === NEXT && next < 0 ? undefined : asked;
    let chosen: number | undefined;
    // Queued sections that fit are looked at up to the rank asked for (the first by default), and no further.
    let fitting = 0;
    let at = -1;
    if (rank === NEXT) {
      chosen = next;
      // A queued section may be the one (an earlier choice queued the wrong one first).
      if (existing > 0) open.push({ decision: d, rank: NEXT });
    } else {
      for (let k = 0; k < existing && chosen === undefined; k++) {
        if (fits(n, same[k]!) && fitting++ === (rank ?? 0)) {
          chosen = same[k];
          at = k;
        }
      }
      if (rank !== undefined && rank > 0 && chosen === undefined) {
        if (rank === fitting && next >= 0) chosen = next;
        else impossible = true;
      }
    }
    if (chosen !== undefined && chosen !== next && next >= 0) ambiguous.push(d);
    // Another queued section (it may fit) or the next one could be this alias's target too.
    if (chosen !== undefined && chosen !== next && (next >= 0 || at + 1 < existing)) {
      open.push({ decision: d, rank: rank ?? fitting - 1 });
    }
    if (chosen === undefined && next >= 0) chosen = next;
    if (chosen === undefined && existing > 0) chosen = same[0];
    if (chosen !== undefined && !fits(n, chosen)) misfits++;
    if (chosen === undefined) {
      formatError(
        "E_MTREE_SYNTAX",
        `line ${n.line}`,
        `alias ${n.name} names @${name}, but no memory-region: ${name} section follows`,
      );
    }
    for (let j = queued.length; j < chosen; j++) {
      queued.push(j);
      hidden.push(j);
      warnings.push(
        `memory-region: ${sections[j]!.header} is queued by an alias the text does not show (a disabled alias left out without -D)`,
      );
    }
    if (chosen === queued.length) queued.push(chosen);
    sectionOf.set(n, chosen);
  };
  const claimed = new Set<TreeNode>();
  let j = 0;
  for (const block of tree.blocks) {
    if (block.spaces === null) {
      const own = new Set(preorder(block.root));
      const twin = (mapped.get(signature(block.root)) ?? []).find((n) => {
        if (own.has(n) || claimed.has(canon(n))) return false;
        decided[j] = canon(n);
        const cycle = reaches(canon(n), canon(n)) || [...sectionOf].some(([a, k]) => k === j && reaches(canon(n), a));
        decided[j] = null;
        return !cycle;
      });
      if (twin !== undefined) unify(block.root, twin);
      decided[j] = canon(block.root);
      claimed.add(canon(block.root));
      j++;
    }
    for (const node of preorder(block.root)) {
      const n = canon(node);
      if (n.alias !== null && !sectionOf.has(n)) resolveAlias(n);
    }
  }
  // `info mtree -D` prints every alias: a section that none of them queues is a wrong turn.
  const complete = queued.length === sections.length && misfits === 0 && !(tree.showsDisabled && hidden.length > 0);
  for (let k = queued.length; k < sections.length; k++) {
    hidden.push(k);
    warnings.push(`memory-region: ${sections[k]!.header} is queued by an alias the text does not show`);
  }
  return { link, sectionOf, decided, warnings, ambiguous, open, impossible, hidden, complete };
}

/** How many of the ascending section numbers `same` are below `queued` (already queued). */
function queuedPrefix(same: readonly number[], queued: number): number {
  let lo = 0;
  let hi = same.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (same[mid]! < queued) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
