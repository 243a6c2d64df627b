import { DIRTY_LOG_VGA, hex, type MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpaceShape } from "../address-space-shape.js";
import { formatError } from "./errors.js";
import { MACHINE_FORMAT, MAX_NESTING } from "./parse.js";
import type { MachineAccel, MachineJson, MachineRegionJson, MachineRegionKind } from "./types.js";

export interface SaveInput {
  readonly name?: string;
  readonly accel: MachineAccel;
  /** In creation order. */
  readonly addressSpaces: readonly Pick<AddressSpaceShape, "name" | "root">[];
  /** Ids to keep (e.g. the ones a machine was loaded with); other regions get `r1`, `r2`, … */
  readonly regions?: ReadonlyMap<string, MemoryRegion>;
  /** `info mtree`'s block order to keep (a loaded machine's `mtreeOrder`): roots of the given spaces. */
  readonly mtreeOrder?: readonly MemoryRegion[];
}

const KIND: Record<MemoryRegion["kind"], MachineRegionKind> = {
  container: "container",
  io: "io",
  ram: "ram",
  rom: "rom",
  "rom-device": "romd",
  "ram-device": "ram-device",
  alias: "alias",
};

/**
 * Describes a machine as a `memtopo-machine/1` document: every region reachable from
 * the address spaces (through subregions and alias targets) under its topmost
 * container, subregions in reverse list order so that replaying `addSubregion` in file
 * order rebuilds QEMU's list. Loading the result builds the same machine.
 */
export function saveMachine(input: SaveInput): MachineJson {
  const ids = new Map<MemoryRegion, string>();
  const taken = new Set<string>();
  for (const [id, mr] of input.regions ?? []) {
    ids.set(mr, id);
    taken.add(id);
  }
  let counter = 0;
  const idOf = (mr: MemoryRegion): string => {
    let id = ids.get(mr);
    if (id === undefined) {
      do id = `r${++counter}`;
      while (taken.has(id));
      ids.set(mr, id);
      taken.add(id);
    }
    return id;
  };

  // Topmost containers of everything reachable, in the order first met.
  const tops: MemoryRegion[] = [];
  const seen = new Set<MemoryRegion>();
  const reach = (start: MemoryRegion): void => {
    let top = start;
    while (top.container !== null) top = top.container;
    if (seen.has(top)) return;
    const stack = [top];
    tops.push(top);
    while (stack.length > 0) {
      const mr = stack.pop()!;
      if (seen.has(mr)) continue;
      seen.add(mr);
      for (const s of mr.subregions) stack.push(s);
      if (mr.alias !== null) {
        let t = mr.alias;
        while (t.container !== null) t = t.container;
        if (!seen.has(t)) {
          tops.push(t);
          stack.push(t);
        }
      }
    }
  };
  for (const as of input.addressSpaces) if (as.root !== null) reach(as.root);
  for (const top of tops) checkHeight(top);

  const describe = (mr: MemoryRegion, topLevel: boolean): MachineRegionJson => {
    const kind = KIND[mr.kind];
    const json: MachineRegionJson = { id: idOf(mr), name: mr.name, kind, size: hex(mr.size) };
    if (!topLevel || mr.addr !== 0n) json.addr = hex(mr.addr);
    if (!topLevel || mr.priority !== 0) json.priority = mr.priority;
    if (!mr.enabled) json.enabled = false;
    if (mr.readonly !== (kind === "rom")) json.readonly = mr.readonly;
    if (mr.nonvolatile) json.nonvolatile = true;
    if (mr.romDevice && !mr.romdMode) json.romdMode = false;
    if (mr.alias !== null) {
      json.alias = idOf(mr.alias);
      json.aliasOffset = hex(mr.aliasOffset);
    }
    if ((mr.dirtyLogMask & DIRTY_LOG_VGA) !== 0) json.log = ["vga"];
    if (mr.owner !== null) json.owner = mr.owner;
    if (mr.subregions.length > 0) json.subregions = [...mr.subregions].reverse().map((c) => describe(c, false));
    return json;
  };
  const regions = tops.map((mr) => describe(mr, true));
  const out: MachineJson = {
    format: MACHINE_FORMAT,
    name: input.name ?? "",
    accel: input.accel,
    addressSpaces: [],
    regions,
  };
  out.addressSpaces = input.addressSpaces
    .filter((as) => as.root !== null)
    .map((as) => ({ name: as.name, root: idOf(as.root!) }));
  const roots = new Set(input.addressSpaces.map((as) => as.root));
  const order = (input.mtreeOrder ?? []).filter((mr) => roots.has(mr));
  if (order.length > 0) out.mtreeOrder = [...new Set(order)].map(idOf);
  return out;
}

/**
 * Refuses what the loader would refuse as too deep (`E_MACHINE_DEPTH`): a chain of subregions and alias targets
 * longer than {@link MAX_NESTING} below `top`. Measured without recursion, so any tree gets this answer.
 */
function checkHeight(top: MemoryRegion): void {
  const height = new Map<MemoryRegion, number>();
  const below = (mr: MemoryRegion): MemoryRegion[] =>
    mr.alias === null ? [...mr.subregions] : [mr.alias, ...mr.subregions];
  const stack: { mr: MemoryRegion; next: MemoryRegion[]; at: number }[] = [{ mr: top, next: below(top), at: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const n = frame.next[frame.at++];
    if (n !== undefined) {
      if (!height.has(n)) stack.push({ mr: n, next: below(n), at: 0 });
      continue;
    }
    let h = 0;
    for (const e of frame.next) h = Math.max(h, height.get(e) ?? 0);
    height.set(frame.mr, h + 1);
    if (h + 1 > MAX_NESTING) {
      formatError(
        "E_MACHINE_DEPTH",
        "",
        `${describeRegion(frame.mr)}: aliases and subregions chain deeper than ${MAX_NESTING} levels, which no machine file may hold`,
      );
    }
    stack.pop();
  }
}

function describeRegion(mr: MemoryRegion): string {
  return mr.name === null ? `region #${mr.id}` : `region ${JSON.stringify(mr.name)}`;
}
