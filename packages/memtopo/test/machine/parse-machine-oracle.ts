import { cutText, INT32_MAX, INT32_MIN, regionSizeFromU64, SIZE_2_64 } from "@memtopo/region-tree";
import { formatError } from "../../src/machine/errors.js";
import type { LogClient, MachineAccel, MachineRegionKind, MachineSpec, RegionSpec } from "../../src/machine/types.js";

/*
 * The machine-file validator as it was before it was made lean for large files (lazy JSON paths, tables by ordinal
 * for the cycle search), kept as the oracle of parse.property.test.ts: straightforward, one object and one path
 * string per region, maps for colours and heights. Not used by the package.
 */
const MACHINE_FORMAT = "memtopo-machine/1";

const KINDS: readonly MachineRegionKind[] = ["container", "ram", "rom", "romd", "io", "ram-device", "alias"];
const ACCELS: readonly MachineAccel[] = ["kvm", "tcg", "none"];
const LOG_CLIENTS: readonly LogClient[] = ["vga", "code", "migration"];
const TOP_FIELDS = ["format", "name", "accel", "addressSpaces", "regions", "mtreeOrder"];
const AS_FIELDS = ["name", "root"];
const REGION_FIELDS = [
  "id",
  "name",
  "kind",
  "size",
  "addr",
  "priority",
  "enabled",
  "readonly",
  "nonvolatile",
  "romdMode",
  "alias",
  "aliasOffset",
  "log",
  "owner",
  "subregions",
];

type Json = Record<string, unknown>;

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing (the field is missing)";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `string ${q(value)}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${cutText(String(value))}`;
}

/** A value of the file as a message quotes it: cut to MAX_ECHO characters (MemtopoError escapes the message). */
function q(value: string): string {
  return `"${cutText(value)}"`;
}

function object(value: unknown, path: string, fields: readonly string[]): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    formatError("E_MACHINE_TYPE", path, `expected an object, got ${typeOf(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) {
      formatError("E_MACHINE_FIELD", `${path}.${key}`.replace(/^\./, ""), `unknown field ${q(key)}`);
    }
  }
  return value as Json;
}

function field(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function required(obj: Json, key: string, path: string): unknown {
  if (!(key in obj)) formatError("E_MACHINE_FIELD", field(path, key), `required field ${q(key)} is missing`);
  return obj[key];
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string") formatError("E_MACHINE_TYPE", path, `expected a string, got ${typeOf(value)}`);
  return value;
}

function boolean(obj: Json, key: string, path: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    formatError("E_MACHINE_TYPE", field(path, key), `expected true or false, got ${typeOf(value)}`);
  }
  return value;
}

function word<T extends string>(value: unknown, path: string, words: readonly T[]): T {
  if (typeof value !== "string" || !words.includes(value as T)) {
    formatError("E_MACHINE_TYPE", path, `expected one of ${words.join(", ")}, got ${typeOf(value)}`);
  }
  return value as T;
}

/** A `0x` hex string up to `limit` (inclusive). */
function hexNumber(value: unknown, path: string, limit: bigint): bigint {
  if (typeof value !== "string") formatError("E_MACHINE_TYPE", path, `expected a hex string, got ${typeOf(value)}`);
  if (!/^0x[0-9a-fA-F]+$/.test(value))
    formatError("E_MACHINE_HEX", path, `expected a hex string like "0x1000", got ${q(value)}`);
  const n = BigInt(value);
  if (n > limit) formatError("E_MACHINE_RANGE", path, `${cutText(value)} is larger than 0x${limit.toString(16)}`);
  return n;
}

/**
 * Validates a parsed `memtopo-machine/1` document without building anything: every
 * field, every id, every alias window and the absence of cycles. Errors name the JSON
 * path of the bad value.
 */
/** `mtreeOrder`: distinct ids, each the root of some address space. */
function parseMtreeOrder(value: unknown, roots: ReadonlySet<string>): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) formatError("E_MACHINE_TYPE", "mtreeOrder", `expected an array, got ${typeOf(value)}`);
  const seen = new Set<string>();
  return value.map((v, i) => {
    const id = string(v, `mtreeOrder[${i}]`);
    if (!roots.has(id)) {
      formatError("E_MACHINE_DANGLING_ID", `mtreeOrder[${i}]`, `no address space has root ${q(id)}`);
    }
    if (seen.has(id)) formatError("E_MACHINE_DUPLICATE_ID", `mtreeOrder[${i}]`, `root ${q(id)} is listed twice`);
    seen.add(id);
    return id;
  });
}

export function parseMachineOracle(input: unknown): MachineSpec {
  const top = object(input, "", TOP_FIELDS);
  if (top.format !== MACHINE_FORMAT) {
    formatError("E_MACHINE_FORMAT", "format", `expected "${MACHINE_FORMAT}", got ${typeOf(top.format)}`);
  }
  const name = top.name === undefined ? "" : string(top.name, "name");
  const accel = top.accel === undefined ? "none" : word(top.accel, "accel", ACCELS);
  const regionsIn = required(top, "regions", "");
  if (!Array.isArray(regionsIn))
    formatError("E_MACHINE_TYPE", "regions", `expected an array, got ${typeOf(regionsIn)}`);
  const byId = new Map<string, RegionSpec>();
  const regions = regionsIn.map((r, i) => parseRegion(r, `regions[${i}]`, true, byId));

  const spacesIn = required(top, "addressSpaces", "");
  if (!Array.isArray(spacesIn)) {
    formatError("E_MACHINE_TYPE", "addressSpaces", `expected an array, got ${typeOf(spacesIn)}`);
  }
  const addressSpaces = spacesIn.map((s, i) => {
    const path = `addressSpaces[${i}]`;
    const obj = object(s, path, AS_FIELDS);
    const asName = string(required(obj, "name", path), `${path}.name`);
    const root = string(required(obj, "root", path), `${path}.root`);
    if (!byId.has(root)) formatError("E_MACHINE_DANGLING_ID", `${path}.root`, `no region has id ${q(root)}`);
    return { name: asName, root, path };
  });
  checkGraph(regions, byId);
  const mtreeOrder = parseMtreeOrder(top.mtreeOrder, new Set(addressSpaces.map((a) => a.root)));
  return { name, accel, addressSpaces, regions, mtreeOrder, byId };
}

/**
 * How deep subregions may nest. Real machines nest about ten levels; the limit keeps a
 * hostile file from exhausting the stack here and in the importer's walks, which recurse
 * (rendering, commits and printing do not).
 */
const MAX_NESTING = 256;

function parseRegion(
  value: unknown,
  path: string,
  topLevel: boolean,
  byId: Map<string, RegionSpec>,
  depth = 0,
): RegionSpec {
  if (depth > MAX_NESTING) {
    formatError("E_MACHINE_DEPTH", path, `subregions nest deeper than ${MAX_NESTING} levels`);
  }
  const obj = object(value, path, REGION_FIELDS);
  const id = string(required(obj, "id", path), `${path}.id`);
  if (byId.has(id)) {
    formatError("E_MACHINE_DUPLICATE_ID", `${path}.id`, `id ${q(id)} is already used by ${byId.get(id)!.path}`);
  }
  const nameIn = required(obj, "name", path);
  const name = nameIn === null ? null : string(nameIn, `${path}.name`);
  const kind = word(required(obj, "kind", path), `${path}.kind`, KINDS);
  const size = regionSizeFromU64(hexNumber(required(obj, "size", path), `${path}.size`, SIZE_2_64));
  const addr = obj.addr === undefined ? 0n : hexNumber(obj.addr, `${path}.addr`, SIZE_2_64 - 1n);
  let priority = 0;
  if (obj.priority !== undefined) {
    const p = obj.priority;
    if (typeof p !== "number" || !Number.isInteger(p)) {
      formatError("E_MACHINE_TYPE", `${path}.priority`, `expected an integer, got ${typeOf(p)}`);
    }
    if (p < INT32_MIN || p > INT32_MAX)
      formatError("E_MACHINE_RANGE", `${path}.priority`, `${p} is not a 32-bit priority`);
    priority = p;
  }
  if (size === SIZE_2_64 && kind !== "container" && kind !== "io" && kind !== "alias") {
    // A RAM block's length is 64-bit (QEMU's ram_addr_t): RAM, ROM and RAM devices stop short of 2^64.
    formatError(
      "E_MACHINE_RANGE",
      `${path}.size`,
      `a ${kind} region cannot be 2^64 bytes (its RAM block's length is 64-bit)`,
    );
  }
  if (!topLevel && addr + size > SIZE_2_64) {
    formatError(
      "E_MACHINE_PAST_END",
      `${path}.addr`,
      `a subregion of size 0x${size.toString(16)} at this address ends past 2^64`,
    );
  }
  let alias: string | null = null;
  let aliasOffset = 0n;
  if (kind === "alias") {
    alias = string(required(obj, "alias", path), `${path}.alias`);
    if (obj.aliasOffset !== undefined) aliasOffset = hexNumber(obj.aliasOffset, `${path}.aliasOffset`, SIZE_2_64 - 1n);
  } else {
    for (const key of ["alias", "aliasOffset"]) {
      if (key in obj) formatError("E_MACHINE_FIELD", `${path}.${key}`, `${q(key)} belongs to kind "alias" only`);
    }
  }
  if (kind !== "romd" && "romdMode" in obj) {
    formatError("E_MACHINE_FIELD", `${path}.romdMode`, `"romdMode" belongs to kind "romd" only`);
  }
  const log: LogClient[] = [];
  if (obj.log !== undefined) {
    if (!Array.isArray(obj.log))
      formatError("E_MACHINE_TYPE", `${path}.log`, `expected an array, got ${typeOf(obj.log)}`);
    obj.log.forEach((client, i) => {
      const c = word(client, `${path}.log[${i}]`, LOG_CLIENTS);
      if (log.includes(c)) formatError("E_MACHINE_TYPE", `${path}.log[${i}]`, `${q(c)} is listed twice`);
      log.push(c);
    });
  }
  const ownerIn = obj.owner;
  const owner = ownerIn === undefined || ownerIn === null ? null : string(ownerIn, `${path}.owner`);
  const spec: RegionSpec = {
    path,
    id,
    name,
    kind,
    size,
    addr,
    priority,
    enabled: boolean(obj, "enabled", path, true),
    readonly: boolean(obj, "readonly", path, kind === "rom"),
    nonvolatile: boolean(obj, "nonvolatile", path, false),
    romdMode: boolean(obj, "romdMode", path, true),
    alias,
    aliasOffset,
    log,
    owner,
    subregions: [],
  };
  byId.set(id, spec);
  if (obj.subregions !== undefined) {
    if (!Array.isArray(obj.subregions)) {
      formatError("E_MACHINE_TYPE", `${path}.subregions`, `expected an array, got ${typeOf(obj.subregions)}`);
    }
    const subregions = spec.subregions as RegionSpec[];
    // One at a time: a spread of a million children would overflow the argument stack.
    obj.subregions.forEach((s, i) => {
      subregions.push(parseRegion(s, `${path}.subregions[${i}]`, false, byId, depth + 1));
    });
  }
  return spec;
}

/**
 * Alias targets must exist, their windows must fit, and following subregions and alias
 * targets must never come back to a region (QEMU would recurse forever rendering it).
 */
function checkGraph(regions: readonly RegionSpec[], byId: ReadonlyMap<string, RegionSpec>): void {
  for (const spec of byId.values()) {
    if (spec.alias === null) continue;
    const target = byId.get(spec.alias);
    if (target === undefined)
      formatError("E_MACHINE_DANGLING_ID", `${spec.path}.alias`, `no region has id ${q(spec.alias)}`);
    if (spec.aliasOffset + spec.size > target.size) {
      formatError(
        "E_MACHINE_ALIAS_WINDOW",
        `${spec.path}.aliasOffset`,
        `the window 0x${spec.aliasOffset.toString(16)}+0x${spec.size.toString(16)} lies outside ${q(spec.alias)} (size 0x${target.size.toString(16)})`,
      );
    }
  }
  // Iterative depth-first search with colours; a grey region met again closes a cycle. Each
  // region's height (longest chain of subregions and alias targets below it) bounds the
  // recursion of building, rendering and printing, so it is capped as nesting is.
  const state = new Map<RegionSpec, "grey" | "black">();
  const height = new Map<RegionSpec, number>();
  const edges = (spec: RegionSpec): readonly RegionSpec[] =>
    spec.alias === null ? spec.subregions : [byId.get(spec.alias)!, ...spec.subregions];
  const visit = (start: RegionSpec): void => {
    const stack: { spec: RegionSpec; next: readonly RegionSpec[]; at: number }[] = [
      { spec: start, next: edges(start), at: 0 },
    ];
    state.set(start, "grey");
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const n = top.next[top.at++];
      if (n === undefined) {
        state.set(top.spec, "black");
        // A loop, not Math.max(...): a container may have a million children.
        let below = 0;
        for (const e of top.next) below = Math.max(below, height.get(e) ?? 0);
        const h = 1 + below;
        if (h > MAX_NESTING) {
          formatError(
            "E_MACHINE_DEPTH",
            top.spec.path,
            `aliases and subregions chain deeper than ${MAX_NESTING} levels`,
          );
        }
        height.set(top.spec, h);
        stack.pop();
        continue;
      }
      const s = state.get(n);
      if (s === "grey") {
        const from = stack.findIndex((e) => e.spec === n);
        const culprit = stack.slice(from).find((e) => e.spec.alias !== null)?.spec ?? top.spec;
        const ring = [...stack.slice(from).map((e) => e.spec.id), n.id].join(" -> ");
        formatError("E_MACHINE_CYCLE", `${culprit.path}.alias`, `aliases and subregions form a cycle: ${ring}`);
      }
      if (s === undefined) {
        state.set(n, "grey");
        stack.push({ spec: n, next: edges(n), at: 0 });
      }
    }
  };
  for (const spec of regions) if (!state.has(spec)) visit(spec);
  for (const spec of byId.values()) if (!state.has(spec)) visit(spec);
}
