import { cutText, unescapeText } from "@memtopo/region-tree";
import { formatError } from "../errors.js";
import { OWNER_TAIL_FORM, readOwnerTail } from "./owner-tail.js";
import type { TypeWord } from "./parse-tree.js";

export interface FlatRangeLine {
  readonly line: number;
  readonly start: bigint;
  /** Exact size (a range never reaches past 2^64). */
  readonly size: bigint;
  readonly priority: number;
  readonly nonvolatile: boolean;
  readonly type: TypeWord;
  readonly name: string;
  readonly offset: bigint;
  /** How many ` KVM` words ended the line. */
  readonly accelMarks: number;
}

export interface FlatBlock {
  readonly line: number;
  /** ` AS` lines in creation order: the space's name and its root's name. */
  readonly spaces: readonly { readonly name: string; readonly root: string; readonly alias: string | null }[];
  /** `Root memory region:` name, or null for `(none)`. */
  readonly viewRoot: string | null;
  readonly ranges: readonly FlatRangeLine[];
}

const AS_LINE = /^ AS "(.*)", root: (.*)$/;
const RANGE = /^ {2}([0-9a-f]{16})-([0-9a-f]{16}) \(prio (-?\d+), (nv-)?(ram|rom|romd|ramd|i\/o)\): (.*)$/;

/** Reads the text of `info mtree -f` (QEMU 7.2), blocks in printed order. */
export function parseFlatText(text: string): FlatBlock[] {
  const blocks: {
    line: number;
    spaces: FlatBlock["spaces"][number][];
    viewRoot: string | null;
    ranges: FlatRangeLine[];
  }[] = [];
  // `info mtree -f -o` owns every range line or none: its first range line decides.
  let showsOwners: boolean | null = null;
  text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .forEach((text, i) => {
      const lineNo = i + 1;
      if (text.trim() === "") return;
      if (text.startsWith("FlatView #")) {
        blocks.push({ line: lineNo, spaces: [], viewRoot: null, ranges: [] });
        return;
      }
      const block = blocks[blocks.length - 1];
      if (block === undefined) formatError("E_MTREE_SYNTAX", `line ${lineNo}`, "text before the first FlatView header");
      const as = AS_LINE.exec(text);
      if (as !== null) {
        let root = as[2]!;
        let alias: string | null = null;
        // `, alias TARGET` follows an alias root; a root named with ", alias " is read the same way.
        const k = root.lastIndexOf(", alias ");
        if (k >= 0) {
          alias = root.slice(k + ", alias ".length);
          root = root.slice(0, k);
        }
        // Names are printed escaped (escapeText): read back.
        block.spaces.push({
          name: unescapeText(as[1]!),
          root: unescapeText(root),
          alias: alias === null ? null : unescapeText(alias),
        });
        return;
      }
      if (text.startsWith(" Root memory region: ")) {
        const name = text.slice(" Root memory region: ".length);
        block.viewRoot = name === "(none)" ? null : unescapeText(name);
        return;
      }
      if (text === "  No rendered FlatView") return;
      const m = RANGE.exec(text);
      if (m === null) formatError("E_MTREE_SYNTAX", `line ${lineNo}`, `not an info mtree -f line: "${cutText(text)}"`);
      let rest = m[6]!;
      let accelMarks = 0;
      while (rest.endsWith(" KVM")) {
        rest = rest.slice(0, -4);
        accelMarks++;
      }
      const tail = readOwnerTail(rest);
      showsOwners ??= tail !== null;
      if (showsOwners) {
        if (tail === null) {
          formatError(
            "E_MTREE_SYNTAX",
            `line ${lineNo}`,
            `info mtree -f -o text (its first range has an owner part) but no well-formed one here (${OWNER_TAIL_FORM})`,
          );
        }
        rest = tail.rest;
      }
      let offset = 0n;
      const off = / @([0-9a-f]{16})$/.exec(rest);
      if (off !== null) {
        offset = BigInt(`0x${off[1]}`);
        rest = rest.slice(0, off.index);
      }
      const start = BigInt(`0x${m[1]}`);
      const end = BigInt(`0x${m[2]}`);
      // A FlatView is sorted and its ranges are disjoint; the flat hints search them by address.
      const before = block.ranges[block.ranges.length - 1];
      if (end < start || (before !== undefined && start < before.start + before.size)) {
        formatError(
          "E_MTREE_SYNTAX",
          `line ${lineNo}`,
          "a FlatView's ranges ascend without overlap, as QEMU prints them: this one does not",
        );
      }
      block.ranges.push({
        line: lineNo,
        start,
        size: end - start + 1n,
        priority: Number(m[3]),
        nonvolatile: m[4] !== undefined,
        type: m[5] as TypeWord,
        name: unescapeText(rest),
        offset,
        accelMarks,
      });
    });
  return blocks;
}
