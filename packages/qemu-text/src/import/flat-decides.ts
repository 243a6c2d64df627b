import { MemtopoError } from "@memtopo/region-tree";
import { loadMachine, type MachineJson } from "memtopo";
import { printMtreeFlat } from "../mtree/flat.js";
import type { Identities } from "./identity.js";
import { cleanMonitorText } from "./monitor-text.js";
import { type FlatBlock, parseFlatText } from "./parse-flat.js";

/**
 * What `build` makes of the first reading of the tree text whose machine renders the flat view. The tree text
 * names an alias's target by name alone, so of two targets of one name the first reading may take the wrong one:
 * the flat view then refuses it (`E_MTREE_MISMATCH`) or the machine renders another view. Only then are the other
 * readings built, nearest first, and the first whose machine renders the flat view is taken; when none does, the
 * first reading's machine or error stands, as when the text has no other reading or no flat view.
 */
export function firstRendered<T extends { readonly machine: MachineJson }>(
  ids: Identities,
  build: (ids: Identities) => T,
  flatText: string | undefined,
): T {
  if (flatText === undefined || !ids.ambiguous) return build(ids);
  const wanted = parseFlatText(cleanMonitorText(flatText).text);
  let first: { result: T } | { error: unknown };
  try {
    first = { result: build(ids) };
  } catch (error) {
    if (!(error instanceof MemtopoError) || error.code !== "E_MTREE_MISMATCH") throw error;
    first = { error };
  }
  if ("result" in first && renders(first.result.machine, wanted)) return first.result;
  for (const other of ids.alternatives()) {
    let result: T;
    try {
      result = build(other);
    } catch (error) {
      // Another reading may close a cycle or fail the flat view otherwise: it is simply not the text's.
      if (error instanceof MemtopoError) continue;
      throw error;
    }
    if (renders(result.machine, wanted)) return result;
  }
  if ("result" in first) return first.result;
  throw first.error;
}

/** Whether the machine, loaded, prints the flat views read from the text (line numbers and accelerator marks apart). */
function renders(machine: MachineJson, wanted: readonly FlatBlock[]): boolean {
  let printed: FlatBlock[];
  try {
    printed = parseFlatText(printMtreeFlat(loadMachine(machine).addressSpaces));
  } catch (error) {
    if (error instanceof MemtopoError) return false;
    throw error;
  }
  if (printed.length !== wanted.length) return false;
  return printed.every((view, i) => sameView(view, wanted[i]!));
}

function sameView(a: FlatBlock, b: FlatBlock): boolean {
  if (a.viewRoot !== b.viewRoot || a.spaces.length !== b.spaces.length || a.ranges.length !== b.ranges.length) {
    return false;
  }
  for (let i = 0; i < a.spaces.length; i++) {
    const x = a.spaces[i]!;
    const y = b.spaces[i]!;
    if (x.name !== y.name || x.root !== y.root || x.alias !== y.alias) return false;
  }
  for (let i = 0; i < a.ranges.length; i++) {
    const x = a.ranges[i]!;
    const y = b.ranges[i]!;
    if (
      x.start !== y.start ||
      x.size !== y.size ||
      x.priority !== y.priority ||
      x.nonvolatile !== y.nonvolatile ||
      x.type !== y.type ||
      x.name !== y.name ||
      x.offset !== y.offset
    ) {
      return false;
    }
  }
  return true;
}
