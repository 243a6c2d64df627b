import { cutText, unescapeText, wrap64 } from "@memtopo/region-tree";
import { MAX_NESTING } from "memtopo";
import { formatError } from "../errors.js";
import { OWNER_TAIL_FORM, readOwnerTail } from "./owner-tail.js";
import { RegionLineReader } from "./region-line.js";

export type TypeWord = "ram" | "rom" | "romd" | "ramd" | "i/o";

/** One printed line of `info mtree` (a region as QEMU showed it at one place). */
export interface TreeNode {
  /** 1-based line in the text, for messages. */
  readonly line: number;
  readonly name: string;
  /** Printed start (absolute in its block) and end, both mod 2^64. */
  readonly start: bigint;
  readonly end: bigint;
  readonly priority: number;
  readonly nonvolatile: boolean;
  readonly type: TypeWord;
  readonly disabled: boolean;
  readonly alias: { readonly target: string; readonly offset: bigint; readonly end: bigint } | null;
  readonly children: TreeNode[];
  readonly parent: TreeNode | null;
  /** Made up by the importer for a disabled region that plain `info mtree` leaves out. */
  readonly hidden: boolean;
  /** `info mtree -o`: the owner's label (see {@link readOwnerTail}); null without one or without `-o`. */
  readonly owner: string | null;
  /** Its row among the lines {@link parseTreeText} made, in the order made: the importer's tables are by it. */
  readonly seq?: number;
}

export interface TreeBlock {
  /** `address-space:` names, or null for a `memory-region:` section. */
  readonly spaces: readonly string[] | null;
  readonly header: string;
  readonly root: TreeNode;
}

export interface ParsedTree {
  readonly blocks: readonly TreeBlock[];
  /** Whether regions were left out (a level skipped): the text is plain `info mtree`, not `-D`. */
  readonly hiddenParents: number;
  /** Some line ends in ` [disabled]`: the text is `info mtree -D`, which hides nothing. */
  readonly showsDisabled: boolean;
  /** Owners `-o` printed that memtopo's label cannot print back the same (objects, types). */
  readonly lossyOwners: number;
  /** How many lines were made (rows, see {@link TreeNode.seq}), stand-ins for hidden regions included. */
  readonly lines: number;
}

const LINE =
  /^(?:\[DETECTED OVERFLOW!\] )*((?: {2})+)([0-9a-f]{16})-([0-9a-f]{16}) \(prio (-?\d+), (nv-)?(ram|rom|romd|ramd|i\/o)\): (.*)$/;
const WINDOW = / ([0-9a-f]{16})-([0-9a-f]{16})$/;

/** The size a printed `start-end` stands for; `start-start` is 1 byte (the importer may later say 0). */
export function printedSize(start: bigint, end: bigint): bigint {
  return wrap64(end - start) + 1n;
}

/** What a line without subregions holds: one frozen list for all of them, replaced at the first subregion. */
const NO_LINES: TreeNode[] = Object.freeze([]) as unknown as TreeNode[];

/**
 * A parsed line: every field its own (an object spread of one, as the importer makes for stand-ins, copies them
 * all), and the children of a leaf the shared empty list.
 */
class PrintedLine implements TreeNode {
  children: TreeNode[] = NO_LINES;

  constructor(
    readonly seq: number,
    readonly line: number,
    readonly name: string,
    readonly start: bigint,
    readonly end: bigint,
    readonly priority: number,
    readonly nonvolatile: boolean,
    readonly type: TypeWord,
    readonly disabled: boolean,
    readonly alias: TreeNode["alias"],
    readonly parent: TreeNode | null,
    readonly hidden: boolean,
    readonly owner: string | null,
  ) {}
}

/** Appends `child` to the subregions of `parent` (a line made here). */
function adopt(parent: TreeNode, child: TreeNode): void {
  if (parent.children === NO_LINES) (parent as PrintedLine).children = [child];
  else parent.children.push(child);
}

/** Reads the text of `info mtree` or `info mtree -D` (QEMU 7.2), blocks in printed order. */
export function parseTreeText(text: string): ParsedTree {
  const lf = text.replace(/\r\n/g, "\n");
  const blocks: TreeBlock[] = [];
  let spaces: string[] = [];
  let section: string | null = null;
  let stack: TreeNode[] = [];
  let root: TreeNode | null = null;
  let hiddenParents = 0;
  let showsDisabled = false;
  // `info mtree -o` owns every line or none: its first region line decides.
  let showsOwners: boolean | null = null;
  let lossyOwners = 0;
  let made = 0;
  const reader = new RegionLineReader();
  const close = (): void => {
    if (root !== null) {
      blocks.push({ spaces: section === null ? spaces : null, header: section ?? spaces.join(", "), root });
    }
    root = null;
    stack = [];
  };
  /** A region line, its fields read (`hexStart` and `hexEnd` only for a message: the plain form's are sound). */
  const regionLine = (
    lineNo: number,
    level: number,
    start: bigint,
    end: bigint,
    priority: number,
    priorityText: () => string,
    nonvolatile: boolean,
    type: TypeWord,
    rest: string,
    endBelowStart: (() => string) | null,
  ): void => {
    if (spaces.length === 0 && section === null) {
      formatError(
        "E_MTREE_SYNTAX",
        `line ${lineNo}`,
        "a region line before any address-space: or memory-region: header",
      );
    }
    if (level > MAX_NESTING) {
      formatError(
        "E_MACHINE_DEPTH",
        `line ${lineNo}`,
        `indented ${level} levels; a machine file holds at most ${MAX_NESTING} levels of subregions`,
      );
    }
    let owner: string | null = null;
    // Without owners (the first line said so) the owner part is not looked for.
    if (showsOwners !== false) {
      const tail = readOwnerTail(rest);
      showsOwners ??= tail !== null;
      if (showsOwners) {
        if (tail === null) {
          formatError(
            "E_MTREE_SYNTAX",
            `line ${lineNo}`,
            `info mtree -o text (its first region has an owner part) but no well-formed one here (${OWNER_TAIL_FORM})`,
          );
        }
        rest = tail.rest;
        owner = tail.owner;
        if (tail.lossy) lossyOwners++;
      }
    }
    const disabled = rest.endsWith(" [disabled]");
    showsDisabled ||= disabled;
    if (disabled) rest = rest.slice(0, -" [disabled]".length);
    let name = rest;
    let alias: TreeNode["alias"] = null;
    const w = rest.startsWith("alias ") ? WINDOW.exec(rest) : null;
    const at = w === null ? -1 : rest.lastIndexOf(" @", w.index);
    if (w !== null && at > "alias".length) {
      name = rest.slice("alias ".length, at);
      alias = {
        target: unescapeText(rest.slice(at + 2, w.index)),
        offset: BigInt(`0x${w[1]}`),
        end: BigInt(`0x${w[2]}`),
      };
    }
    if (level === 1 && root !== null) {
      formatError("E_MTREE_SYNTAX", `line ${lineNo}`, "a second root line in one block");
    }
    stack.length = Math.min(stack.length, level - 1);
    // Plain `info mtree` drops a disabled region's own line but prints its children one
    // level deeper: stand in a disabled container for each skipped level.
    while (stack.length < level - 1) {
      // A disabled block root is left out too: a section's header still names it.
      const parent = stack[stack.length - 1] ?? null;
      const filler = new PrintedLine(
        made++,
        lineNo,
        parent === null && section !== null ? section : "(hidden)",
        // At its parent's start and 2^64 long: it holds whatever its children and aliases need.
        parent?.start ?? 0n,
        wrap64((parent?.start ?? 0n) - 1n),
        0,
        false,
        "i/o",
        true,
        null,
        parent,
        true,
        null,
      );
      if (parent === null) root = filler;
      else adopt(parent, filler);
      stack.push(filler);
      hiddenParents++;
    }
    if (!Number.isSafeInteger(priority) || priority < -(2 ** 31) || priority >= 2 ** 31) {
      formatError("E_MACHINE_RANGE", `line ${lineNo}`, `priority ${cutText(priorityText())} is not a 32-bit priority`);
    }
    if (endBelowStart !== null) formatError("E_MACHINE_RANGE", `line ${lineNo}`, endBelowStart());
    const parent = stack[stack.length - 1] ?? null;
    const node = new PrintedLine(
      made++,
      lineNo,
      // Printed escaped (escapeText): read back, so a round trip keeps the name.
      unescapeText(name),
      start,
      end,
      priority,
      nonvolatile,
      type,
      disabled,
      alias,
      parent,
      false,
      owner,
    );
    if (parent === null) root = node;
    else adopt(parent, node);
    stack.push(node);
  };
  /** Any line but a region line of the plain form (which {@link RegionLineReader} reads in place). */
  const otherLine = (text: string, lineNo: number): void => {
    if (text.startsWith("address-space: ")) {
      if (root !== null || section !== null) {
        close();
        spaces = [];
        section = null;
      }
      spaces.push(unescapeText(text.slice("address-space: ".length)));
      return;
    }
    if (text.startsWith("memory-region: ")) {
      close();
      spaces = [];
      section = unescapeText(text.slice("memory-region: ".length));
      return;
    }
    if (text.trim() === "") return;
    const m = LINE.exec(text);
    if (m === null) formatError("E_MTREE_SYNTAX", `line ${lineNo}`, `not an info mtree line: "${cutText(text)}"`);
    const start = BigInt(`0x${m[2]}`);
    const end = BigInt(`0x${m[3]}`);
    // QEMU prints the end mod 2^64 and marks a line whose end wrapped below its start: unmarked, no size fits.
    const unmarked = end < start && !text.startsWith("[DETECTED OVERFLOW!] ");
    regionLine(
      lineNo,
      m[1]!.length / 2,
      start,
      end,
      Number(m[4]),
      () => m[4]!,
      m[5] !== undefined,
      m[6] as TypeWord,
      m[7]!,
      unmarked ? () => `end ${m[3]} is below start ${m[2]} without QEMU's [DETECTED OVERFLOW!] mark` : null,
    );
  };
  const f = reader.fields;
  const noText = (): string => "";
  // Line by line in place: a list of a million line strings lived as long as the parse.
  for (let from = 0, lineNo = 1; ; lineNo++) {
    let to = lf.indexOf("\n", from);
    if (to < 0) to = lf.length;
    if (reader.read(lf, from, to)) {
      const rest = lf.slice(f.restFrom, to);
      regionLine(lineNo, f.indent / 2, f.start, f.end, f.priority, noText, f.nonvolatile, f.type, rest, null);
    } else {
      otherLine(lf.slice(from, to), lineNo);
    }
    if (to === lf.length) break;
    from = to + 1;
  }
  close();
  if (!blocks.some((b) => b.spaces !== null)) {
    formatError("E_MTREE_SYNTAX", "", "no address space in the text: expected the output of info mtree");
  }
  return { blocks, hiddenParents, showsDisabled, lossyOwners, lines: made };
}
