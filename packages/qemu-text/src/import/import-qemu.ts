import { cutText, escapeText, SIZE_2_64 } from "@memtopo/region-tree";
import type { MachineAccel, MachineJson } from "memtopo";
import { MACHINE_FORMAT, parseMachine } from "memtopo";
import { formatError } from "../errors.js";
import { refuseCycles } from "./cycles.js";
import { refuseDeepChains } from "./depth.js";
import { firstRendered } from "./flat-decides.js";
import { applyFlatHints, type ListedSpace } from "./flat-hints.js";
import { type Identities, resolveIdentities } from "./identity.js";
import { siblingListOrder } from "./list-order.js";
import { loaderTakes } from "./loader-takes.js";
import { buildModel, type ImportRegion, type RegionModel } from "./model.js";
import { cleanMonitorText } from "./monitor-text.js";
import { parseFlatText } from "./parse-flat.js";
import { type ParsedTree, parseTreeText, type TreeBlock } from "./parse-tree.js";
import { regionsJson } from "./region-json.js";

export interface ImportQemuInput {
  /** QEMU's `info mtree -D` text (plain `info mtree` works too, with less to go on). */
  readonly tree: string;
  /** QEMU's `info mtree -f` text: the hints for what the tree leaves out. */
  readonly flat?: string;
  /** The accelerator; by default `kvm` when the flat view has ` KVM` marks, else `tcg`. */
  readonly accel?: MachineAccel;
  readonly name?: string;
}

export interface ImportQemuResult {
  readonly machine: MachineJson;
  /** What the importer had to assume, one sentence each. */
  readonly warnings: readonly string[];
}

/**
 * Turns QEMU's own `info mtree` text into a `memtopo-machine/1` description that prints
 * the same texts. The tree gives names, places, sizes, priorities and the enabled flags;
 * the flat view tells containers from gap-filling I/O regions, finds read-only aliases,
 * empty regions and the list order of overlapping equal-priority siblings. Whatever had
 * to be assumed is returned as warnings. Dirty-log clients are not printed by QEMU and
 * are not recovered.
 */
export function importQemu(input: ImportQemuInput): ImportQemuResult {
  const result = machineOf(input);
  // What is written must load: anything the checks missed is refused here, never written, with the loader's own
  // error. Checked once the text's tree and model are no longer reachable.
  if (!loaderTakes(result.machine)) parseMachine(result.machine);
  return result;
}

function machineOf(input: ImportQemuInput): ImportQemuResult {
  const warnings: string[] = [];
  const treeText = cleanMonitorText(input.tree);
  if (treeText.removed.length > 0) warnings.push(`removed from the tree text: ${treeText.removed.join(", ")}`);
  const tree = parseTreeText(treeText.text);
  if (tree.hiddenParents > 0) {
    warnings.push(
      `the tree text is plain info mtree: ${tree.hiddenParents} disabled region(s) left out are stood in for by disabled containers named (hidden)`,
    );
  }
  if (tree.lossyOwners > 0) {
    warnings.push(
      `${tree.lossyOwners} owner(s) are objects or types, not devices by id or path: kept as labels, which print back as devices`,
    );
  }
  // Each reading of the tree text starts from what was said of the texts so far.
  const machineOfReading = (ids: Identities): ImportQemuResult => readingMachine(input, tree, ids, [...warnings]);
  return firstRendered(resolveIdentities(tree), machineOfReading, input.flat);
}

/** The machine of one reading of the tree text (which sections its aliases name), with the flat view's hints. */
function readingMachine(
  input: ImportQemuInput,
  tree: ParsedTree,
  ids: Identities,
  warnings: string[],
): ImportQemuResult {
  warnings.push(...ids.warnings);
  const model = buildModel(tree, ids);
  const spaceBlocks = tree.blocks.filter((b) => b.spaces !== null);
  queueHiddenTargets(model, ids.hiddenTargets.map(model.of), warnings);
  refuseCycles(model);
  refuseDeepChains(model);
  let flat = null;
  // The flat views list every space (applyFlatHints refuses a flat text that leaves one out).
  let listed: readonly ListedSpace[] | null = null;
  if (input.flat !== undefined) {
    const flatText = cleanMonitorText(input.flat);
    if (flatText.removed.length > 0) warnings.push(`removed from the flat text: ${flatText.removed.join(", ")}`);
    flat = parseFlatText(flatText.text);
  }
  if (flat === null) {
    warnings.push(
      "no flat view: i/o regions with subregions are taken as containers, no alias as read-only, " +
        "and equal-priority siblings in printed order",
    );
  } else {
    listed = applyFlatHints(model, spaceBlocks, flat, warnings);
  }

  // Alias windows must fit: a `start-start` alias may be empty, a `start-start` target may hold a byte.
  const pointLike = (r: ImportRegion): boolean => r.node.start === r.node.end;
  for (let pass = 0; pass < 2; pass++) {
    for (const r of model.regions) {
      const t = r.alias;
      if (t === null || r.aliasOffset + r.size <= t.size) continue;
      if (pointLike(t) && !t.sizeSettled && t.size === 0n) t.size = 1n;
      if (r.aliasOffset + r.size > t.size && pointLike(r) && r.size === 1n) r.size = 0n;
    }
  }
  refusePastEnd(model);
  // A region's id is made from its index when it is written: a map of 1.5 million ids was 7 % of a 100 MB import.
  const idOf = { get: (r: ImportRegion): string => `r${r.index + 1}` };
  const regions = regionsJson(model.tops, idOf, (r) => listOrder(r, warnings));

  const addressSpaces = (listed ?? treeSpaceOrder(spaceBlocks)).map((s) => ({
    name: s.name,
    root: idOf.get(model.of(s.block.root)),
  }));
  const marked = flat?.some((v) => v.ranges.some((r) => r.accelMarks > 0)) ?? false;
  const accel = input.accel ?? (marked ? "kvm" : "tcg");
  if (input.accel === undefined && !marked) warnings.push('no " KVM" marks in a flat view: accel taken as "tcg"');
  if (accel === "kvm") {
    warnings.push("dirty-log clients are not printed by QEMU: no region logs (a VGA framebuffer would log under KVM)");
  }
  const machine: MachineJson = { format: MACHINE_FORMAT, name: input.name ?? "", accel, addressSpaces, regions };
  // QEMU's block order is a hash table's: kept, so that printing the machine gives the text back byte for byte.
  const mtreeOrder = [...new Set(spaceBlocks.map((b) => idOf.get(model.of(b.root))!))];
  if (mtreeOrder.length > 1) machine.mtreeOrder = mtreeOrder;
  return { machine, warnings };
}

/**
 * QEMU renders a subregion that ends past 2^64 clipped (and marks its line); a machine file
 * holds none (`E_MACHINE_PAST_END`): refused here with the line, not later at a JSON path
 * the text never had.
 */
function refusePastEnd(model: RegionModel): void {
  for (const r of model.regions) {
    if (r.parent !== null && r.addr + r.size > SIZE_2_64) {
      formatError(
        "E_MACHINE_PAST_END",
        `line ${r.node.line}`,
        `${cutText(escapeText(r.name))} ends past 2^64 (0x${r.size.toString(16)} bytes at 0x${r.addr.toString(16)} in its container)`,
      );
    }
  }
}

/**
 * A section that no printed alias queues was queued by a disabled alias that plain
 * `info mtree` left out: a disabled, empty alias `(hidden)` under the first root queues it.
 */
function queueHiddenTargets(model: RegionModel, targets: readonly ImportRegion[], warnings: string[]): void {
  const reaches = (from: ImportRegion, goal: ImportRegion): boolean => {
    const stack = [from];
    const seen = new Set<ImportRegion>();
    while (stack.length > 0) {
      const r = stack.pop()!;
      if (r === goal) return true;
      if (seen.has(r)) continue;
      seen.add(r);
      // One by one, not push(...children): a container may have a million.
      for (const c of r.children) stack.push(c);
      if (r.alias !== null) stack.push(r.alias);
    }
    return false;
  };
  for (const target of targets) {
    // Under a root the target cannot reach, or the alias would close a cycle.
    const holder = model.tops.find((t) => !reaches(target, t));
    if (holder === undefined) {
      warnings.push(`no region can hold a hidden alias to ${target.name}: its memory-region: section is lost`);
      continue;
    }
    const node = { ...holder.node, name: "(hidden)", children: [], parent: holder.node, hidden: true, owner: null };
    const alias: ImportRegion = {
      index: model.regions.length,
      node: { ...node, end: node.start, alias: { target: target.name, offset: 0n, end: 0n } },
      name: "(hidden)",
      priority: 0,
      nonvolatile: false,
      type: target.type,
      enabled: false,
      addr: 0n,
      size: 0n,
      sizeSettled: true,
      parent: holder,
      children: [],
      alias: target,
      aliasOffset: 0n,
      readonly: false,
      seenInFlat: false,
      mustBeContainer: false,
      mustBeIo: false,
      before: null,
    };
    holder.children.push(alias);
    (model.regions as ImportRegion[]).push(alias);
  }
}

/** The container's list (see {@link siblingListOrder}); a cycle is kept in printed order, with a warning. */
function listOrder(parent: ImportRegion, warnings: string[]): ImportRegion[] {
  return siblingListOrder(parent.children, () =>
    warnings.push(`the flat views order the subregions of ${parent.name} in a cycle; printed order kept`),
  );
}

/**
 * Creation order of the address spaces as far as the tree tells it, for want of a flat view (which lists the
 * spaces of each view in creation order): a block sorts its spaces by name, the later-created first among equal
 * names.
 */
function treeSpaceOrder(blocks: readonly TreeBlock[]): ListedSpace[] {
  const out: ListedSpace[] = [];
  for (const block of blocks) {
    const names = block.spaces!;
    const ordered = names.map((n, i) => ({ n, i })).sort((x, y) => (x.n === y.n ? y.i - x.i : x.i - y.i));
    for (const { n } of ordered) out.push({ name: n, block });
  }
  return out;
}
