import type { MachineRegionJson, MachineRegionKind } from "memtopo";
import { HexTexts } from "./hex-texts.js";
import type { ImportRegion } from "./model.js";

/** The file's id of each region (a map, or ids made on demand). */
type RegionIds = Pick<ReadonlyMap<ImportRegion, string>, "get">;

const KIND: Record<string, MachineRegionKind> = { ram: "ram", rom: "rom", romd: "romd", ramd: "ram-device" };

/**
 * The machine file's regions for the model's tops, each with its subregions nested in the
 * file's order (`listOrder`, reversed: a file lists the last-added first). Built with an
 * explicit stack, in the order a recursive walk would take (so `listOrder`'s notes come in
 * the same order): a model is as deep as its text, and this walk must not overflow on it.
 */
export function regionsJson(
  tops: readonly ImportRegion[],
  idOf: RegionIds,
  listOrder: (container: ImportRegion) => ImportRegion[],
): MachineRegionJson[] {
  const out = new Array<MachineRegionJson>(tops.length);
  const hex = new HexTexts();
  const stack: { r: ImportRegion; top: boolean; into: MachineRegionJson[]; at: number }[] = [];
  for (let i = tops.length - 1; i >= 0; i--) stack.push({ r: tops[i]!, top: true, into: out, at: i });
  while (stack.length > 0) {
    const { r, top, into, at } = stack.pop()!;
    const json = regionJson(r, top, idOf, hex);
    into[at] = json;
    if (r.children.length === 0) continue;
    const listed = listOrder(r).reverse();
    const subregions = new Array<MachineRegionJson>(listed.length);
    json.subregions = subregions;
    for (let i = listed.length - 1; i >= 0; i--) stack.push({ r: listed[i]!, top: false, into: subregions, at: i });
  }
  return out;
}

function regionJson(r: ImportRegion, top: boolean, idOf: RegionIds, hex: HexTexts): MachineRegionJson {
  let kind: MachineRegionKind;
  if (r.alias !== null) kind = "alias";
  else if (r.type !== "i/o") kind = KIND[r.type]!;
  else if (r.mustBeIo) kind = "io";
  else if (r.mustBeContainer || (!r.seenInFlat && r.children.length > 0)) kind = "container";
  else kind = "io";
  const id = idOf.get(r)!;
  const size = hex.of(r.size);
  // A subregion always has its place and priority: written in one literal, the fields sit in the object itself
  // (added one by one, they took a second array per region).
  const json: MachineRegionJson = top
    ? { id, name: r.name, kind, size }
    : { id, name: r.name, kind, size, addr: hex.of(r.addr), priority: r.priority };
  if (top && r.addr !== 0n) json.addr = hex.of(r.addr);
  if (top && r.priority !== 0) json.priority = r.priority;
  if (!r.enabled) json.enabled = false;
  if (r.readonly) json.readonly = true;
  if (r.nonvolatile) json.nonvolatile = true;
  if (r.node.owner !== null) json.owner = r.node.owner;
  if (r.alias !== null) {
    json.alias = idOf.get(r.alias)!;
    json.aliasOffset = hex.of(r.aliasOffset);
  }
  return json;
}
