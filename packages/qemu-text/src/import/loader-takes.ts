import { INT32_MAX, INT32_MIN, regionSizeFromU64, SIZE_2_64, UINT64_MAX } from "@memtopo/region-tree";
import type { MachineJson, MachineRegionJson } from "memtopo";

/** Kinds with a RAM block, whose length is 64-bit: never 2^64 bytes. */
const BLOCK_KINDS: ReadonlySet<string> = new Set(["ram", "rom", "romd", "ram-device"]);

/** Hex texts of at most 13 digits are below 2^52: read as numbers, exact, without a bigint. */
const SHORT_HEX = "0x".length + 13;

/**
 * Whether the loader's check (`parseMachine`) takes a machine file as the importer writes it, asked without
 * building the loader's copy of every region (for a 100 MB dump, 1.5 million objects beside the file's own, a
 * third of the import's time and memory). Only what the text can make wrong is asked here: the values (sizes up
 * to 2^64, read as the loader reads them; places and offsets below 2^64; 32-bit priorities; no RAM block of 2^64
 * bytes; no subregion past 2^64), the address spaces' roots, the block order and the alias targets and
 * windows. The file's form is the importer's own (every field of the loader's type, ids made from the region's
 * index, so unique), and cycles and chains deeper than the loader allows (nesting included) are refused before
 * with the line (`refuseCycles`, `refuseDeepChains`, on the same regions and edges). When this says no, the loader's check
 * runs and says what is wrong, so a refusal is the loader's own error; `loader-takes.property.test.ts` holds the
 * yes to the loader's check.
 */
export function loaderTakes(machine: MachineJson): boolean {
  // Ids whose region must be found (alias targets, roots, block order), and the sizes of those found.
  const wanted = new Set<string>();
  for (const s of machine.addressSpaces) wanted.add(s.root);
  const order = machine.mtreeOrder ?? [];
  const aliases: MachineRegionJson[] = [];
  const regions: MachineRegionJson[] = [];
  /** Per region on the stack, whether it is a subregion. */
  const contained: boolean[] = [];
  const tops = machine.regions;
  for (let i = tops.length - 1; i >= 0; i--) {
    regions.push(tops[i]!);
    contained.push(false);
  }
  // Alias targets are known once every region has been read: a second walk finds their sizes.
  while (regions.length > 0) {
    const r = regions.pop()!;
    if (!valuesLoad(r, contained.pop()!)) return false;
    if (r.kind === "alias") {
      aliases.push(r);
      wanted.add(r.alias!);
    }
    const subregions = r.subregions ?? [];
    for (let i = subregions.length - 1; i >= 0; i--) {
      regions.push(subregions[i]!);
      contained.push(true);
    }
  }
  const sizes = new Map<string, bigint>();
  for (let i = tops.length - 1; i >= 0; i--) regions.push(tops[i]!);
  while (regions.length > 0) {
    const r = regions.pop()!;
    if (wanted.has(r.id)) sizes.set(r.id, sizeOf(r.size));
    const subregions = r.subregions ?? [];
    for (let i = subregions.length - 1; i >= 0; i--) regions.push(subregions[i]!);
  }
  for (const s of machine.addressSpaces) if (!sizes.has(s.root)) return false;
  const roots = new Set(machine.addressSpaces.map((s) => s.root));
  if (new Set(order).size !== order.length || !order.every((id) => roots.has(id))) return false;
  for (const a of aliases) {
    const target = sizes.get(a.alias!);
    if (target === undefined || BigInt(a.aliasOffset ?? "0x0") + sizeOf(a.size) > target) return false;
  }
  return true;
}

/** What the loader asks of one region's own values (`contained`: it is some region's subregion). */
function valuesLoad(r: MachineRegionJson, contained: boolean): boolean {
  const p = r.priority ?? 0;
  if (!Number.isInteger(p) || p < INT32_MIN || p > INT32_MAX) return false;
  if (r.aliasOffset !== undefined && BigInt(r.aliasOffset) > UINT64_MAX) return false;
  const sizeText = r.size;
  const addrText = r.addr ?? "0x0";
  // The usual region: both short, so nothing is near 2^64.
  if (sizeText.length <= SHORT_HEX && addrText.length <= SHORT_HEX) return true;
  const addr = BigInt(addrText);
  if (BigInt(sizeText) > SIZE_2_64 || addr > UINT64_MAX) return false;
  const size = sizeOf(sizeText);
  if (size === SIZE_2_64 && BLOCK_KINDS.has(r.kind)) return false;
  return !contained || addr + size <= SIZE_2_64;
}

/** A size as the loader reads it: UINT64_MAX stands for 2^64, as in QEMU's constructors. */
function sizeOf(text: string): bigint {
  return regionSizeFromU64(BigInt(text));
}
