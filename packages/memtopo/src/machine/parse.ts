import { cutText, INT32_MAX, INT32_MIN, regionSizeFromU64, SIZE_2_64 } from "@memtopo/region-tree";
import { formatError } from "./errors.js";
import type { LogClient, MachineAccel, MachineRegionKind, MachineSpec, RegionSpec } from "./types.js";

export const MACHINE_FORMAT = "memtopo-machine/1";

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

/**
 * Where a value sits in the file. Its JSON path is made only when a message needs it: a path string per value of
 * a million-region file was a large part of the loader's memory and time.
 */
interface Place {
  readonly path: string;
}

const TOP: Place = { path: "" };
const TOP_FIELD_SET: ReadonlySet<string> = new Set(TOP_FIELDS);
const AS_FIELD_SET: ReadonlySet<string> = new Set(AS_FIELDS);
const REGION_FIELD_SET: ReadonlySet<string> = new Set(REGION_FIELDS);
/** What nearly every region has: no log clients and (leaves) no subregions, shared rather than one array each. */
const NO_LOG: readonly LogClient[] = Object.freeze([]);
const NO_SUBREGIONS: readonly RegionSpec[] = Object.freeze([]);

/** The path of `key` at `place` (`key` "" is the place itself). */
function at(place: Place, key: string): string {
  if (key === "") return place.path;
  return place.path === "" ? key : `${place.path}.${key}`;
}

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

function object(value: unknown, place: Place, fields: ReadonlySet<string>): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    formatError("E_MACHINE_TYPE", place.path, `expected an object, got ${typeOf(value)}`);
  }
  // for…in and a set, not Object.keys and a list search: no array per region.
  for (const key in value) {
    if (Object.hasOwn(value, key) && !fields.has(key)) {
      formatError("E_MACHINE_FIELD", at(place, key), `unknown field ${q(key)}`);
    }
  }
  return value as Json;
}

function required(obj: Json, key: string, place: Place): unknown {
  if (!(key in obj)) formatError("E_MACHINE_FIELD", at(place, key), `required field ${q(key)} is missing`);
  return obj[key];
}

function string(value: unknown, place: Place, key: string): string {
  if (typeof value !== "string") {
    formatError("E_MACHINE_TYPE", at(place, key), `expected a string, got ${typeOf(value)}`);
  }
  return value;
}

function boolean(obj: Json, key: string, place: Place, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    formatError("E_MACHINE_TYPE", at(place, key), `expected true or false, got ${typeOf(value)}`);
  }
  return value;
}

function word<T extends string>(value: unknown, place: Place, key: string, words: readonly T[]): T {
  if (typeof value !== "string" || !words.includes(value as T)) {
    formatError("E_MACHINE_TYPE", at(place, key), `expected one of ${words.join(", ")}, got ${typeOf(value)}`);
  }
  return value as T;
}

const HEX = /^0x[0-9a-fA-F]+$/;

/** How many distinct hex texts one file's {@link HexValues} remembers. */
const MAX_HEX_VALUES = 1 << 16;

/**
 * The hex values already read from one file, by their text. A machine repeats its sizes and offsets (every BAR of
 * one size, every bus at the same addresses); those regions share one bigint instead of one of their own each.
 */
type HexValues = Map<string, bigint>;

/** A `0x` hex string up to `limit` (inclusive). */
function hexNumber(value: unknown, place: Place, key: string, limit: bigint, known: HexValues): bigint {
  if (typeof value !== "string") {
    formatError("E_MACHINE_TYPE", at(place, key), `expected a hex string, got ${typeOf(value)}`);
  }
  let n = known.get(value);
  if (n === undefined) {
    if (!HEX.test(value))
      formatError("E_MACHINE_HEX", at(place, key), `expected a hex string like "0x1000", got ${q(value)}`);
    n = BigInt(value);
    if (known.size < MAX_HEX_VALUES) known.set(value, n);
  }
  if (n > limit)
    formatError("E_MACHINE_RANGE", at(place, key), `${cutText(value)} is larger than 0x${limit.toString(16)}`);
  return n;
}

/* A parsed region's kind (its index in KINDS) and booleans, one small integer. */
const KIND_MASK = 7;
const ENABLED = 1 << 3;
const READONLY = 1 << 4;
const NONVOLATILE = 1 << 5;
const ROMD_MODE = 1 << 6;

/** What only aliases and logged regions have, kept aside. */
interface RareFields {
  alias: string | null;
  aliasOffset: bigint;
  log: readonly LogClient[];
}

/**
 * A validated region: few fields, as a million-region file holds a million of them while its machine is built
 * (the kind and booleans packed in one, alias and log aside). It is filled while its JSON is read, in the order
 * of the checks, so that the first bad value of the file is the one reported; `path` is made from its container
 * and index when asked.
 */
class ParsedRegion implements RegionSpec {
  readonly #container: ParsedRegion | null;
  readonly #index: number;
  /** Its index in the order regions were read: the row of {@link checkGraph}'s tables. */
  readonly ordinal: number;
  id = "";
  name: string | null = null;
  size = 0n;
  addr = 0n;
  priority = 0;
  owner: string | null = null;
  subregions: readonly ParsedRegion[] = NO_SUBREGIONS as readonly ParsedRegion[];
  #flags = ENABLED | ROMD_MODE;
  #rare: RareFields | null = null;

  constructor(container: ParsedRegion | null, index: number, ordinal: number) {
    this.#container = container;
    this.#index = index;
    this.ordinal = ordinal;
  }

  get kind(): MachineRegionKind {
    return KINDS[this.#flags & KIND_MASK]!;
  }
  get enabled(): boolean {
    return (this.#flags & ENABLED) !== 0;
  }
  get readonly(): boolean {
    return (this.#flags & READONLY) !== 0;
  }
  get nonvolatile(): boolean {
    return (this.#flags & NONVOLATILE) !== 0;
  }
  get romdMode(): boolean {
    return (this.#flags & ROMD_MODE) !== 0;
  }
  get alias(): string | null {
    return this.#rare === null ? null : this.#rare.alias;
  }
  get aliasOffset(): bigint {
    return this.#rare === null ? 0n : this.#rare.aliasOffset;
  }
  get log(): readonly LogClient[] {
    return this.#rare === null ? NO_LOG : this.#rare.log;
  }

  setKind(kind: MachineRegionKind): void {
    this.#flags = (this.#flags & ~KIND_MASK) | KINDS.indexOf(kind);
  }
  setFlags(enabled: boolean, readonly: boolean, nonvolatile: boolean, romdMode: boolean): void {
    this.#flags =
      (this.#flags & KIND_MASK) |
      (enabled ? ENABLED : 0) |
      (readonly ? READONLY : 0) |
      (nonvolatile ? NONVOLATILE : 0) |
      (romdMode ? ROMD_MODE : 0);
  }
  setAlias(alias: string, aliasOffset: bigint): void {
    this.#rareFields().alias = alias;
    this.#rareFields().aliasOffset = aliasOffset;
  }
  setLog(log: readonly LogClient[]): void {
    this.#rareFields().log = log;
  }

  #rareFields(): RareFields {
    if (this.#rare === null) this.#rare = { alias: null, aliasOffset: 0n, log: NO_LOG };
    return this.#rare;
  }

  get path(): string {
    // Iteratively, outermost first: regions nest up to MAX_NESTING levels.
    const indices: number[] = [];
    let r: ParsedRegion = this;
    while (r.#container !== null) {
      indices.push(r.#index);
      r = r.#container;
    }
    let path = `regions[${r.#index}]`;
    for (let i = indices.length - 1; i >= 0; i--) path += `.subregions[${indices[i]}]`;
    return path;
  }
}

/** `mtreeOrder`: distinct ids, each the root of some address space. */
function parseMtreeOrder(value: unknown, roots: ReadonlySet<string>): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) formatError("E_MACHINE_TYPE", "mtreeOrder", `expected an array, got ${typeOf(value)}`);
  const seen = new Set<string>();
  return value.map((v, i) => {
    const id = string(v, { path: `mtreeOrder[${i}]` }, "");
    if (!roots.has(id)) {
      formatError("E_MACHINE_DANGLING_ID", `mtreeOrder[${i}]`, `no address space has root ${q(id)}`);
    }
    if (seen.has(id)) formatError("E_MACHINE_DUPLICATE_ID", `mtreeOrder[${i}]`, `root ${q(id)} is listed twice`);
    seen.add(id);
    return id;
  });
}

/**
 * Validates a parsed `memtopo-machine/1` document without building anything: every
 * field, every id, every alias window and the absence of cycles. Errors name the JSON
 * path of the bad value.
 */
export function parseMachine(input: unknown): MachineSpec {
  const top = object(input, TOP, TOP_FIELD_SET);
  if (top.format !== MACHINE_FORMAT) {
    formatError("E_MACHINE_FORMAT", "format", `expected "${MACHINE_FORMAT}", got ${typeOf(top.format)}`);
  }
  const name = top.name === undefined ? "" : string(top.name, TOP, "name");
  const accel = top.accel === undefined ? "none" : word(top.accel, TOP, "accel", ACCELS);
  const regionsIn = required(top, "regions", TOP);
  if (!Array.isArray(regionsIn))
    formatError("E_MACHINE_TYPE", "regions", `expected an array, got ${typeOf(regionsIn)}`);
  const byId = new Map<string, ParsedRegion>();
  const regions = new Array<ParsedRegion>(regionsIn.length);
  const known: HexValues = new Map();
  for (let i = 0; i < regionsIn.length; i++) regions[i] = parseRegion(regionsIn[i], null, i, byId, known, 0);

  const spacesIn = required(top, "addressSpaces", TOP);
  if (!Array.isArray(spacesIn)) {
    formatError("E_MACHINE_TYPE", "addressSpaces", `expected an array, got ${typeOf(spacesIn)}`);
  }
  const addressSpaces = spacesIn.map((s, i) => {
    const path = `addressSpaces[${i}]`;
    const place = { path };
    const obj = object(s, place, AS_FIELD_SET);
    const asName = string(required(obj, "name", place), place, "name");
    const root = string(required(obj, "root", place), place, "root");
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
export const MAX_NESTING = 256;

function parseRegion(
  value: unknown,
  container: ParsedRegion | null,
  index: number,
  byId: Map<string, ParsedRegion>,
  known: HexValues,
  depth: number,
): ParsedRegion {
  const spec = new ParsedRegion(container, index, byId.size);
  if (depth > MAX_NESTING) {
    formatError("E_MACHINE_DEPTH", spec.path, `subregions nest deeper than ${MAX_NESTING} levels`);
  }
  const obj = object(value, spec, REGION_FIELD_SET);
  const id = string(required(obj, "id", spec), spec, "id");
  const twin = byId.get(id);
  if (twin !== undefined) {
    formatError("E_MACHINE_DUPLICATE_ID", at(spec, "id"), `id ${q(id)} is already used by ${twin.path}`);
  }
  spec.id = id;
  const nameIn = required(obj, "name", spec);
  spec.name = nameIn === null ? null : string(nameIn, spec, "name");
  const kind = word(required(obj, "kind", spec), spec, "kind", KINDS);
  spec.setKind(kind);
  const size = regionSizeFromU64(hexNumber(required(obj, "size", spec), spec, "size", SIZE_2_64, known));
  spec.size = size;
  const addr = obj.addr === undefined ? 0n : hexNumber(obj.addr, spec, "addr", SIZE_2_64 - 1n, known);
  spec.addr = addr;
  if (obj.priority !== undefined) {
    const p = obj.priority;
    if (typeof p !== "number" || !Number.isInteger(p)) {
      formatError("E_MACHINE_TYPE", at(spec, "priority"), `expected an integer, got ${typeOf(p)}`);
    }
    if (p < INT32_MIN || p > INT32_MAX)
      formatError("E_MACHINE_RANGE", at(spec, "priority"), `${p} is not a 32-bit priority`);
    spec.priority = p;
  }
  if (size === SIZE_2_64 && kind !== "container" && kind !== "io" && kind !== "alias") {
    // A RAM block's length is 64-bit (QEMU's ram_addr_t): RAM, ROM and RAM devices stop short of 2^64.
    formatError(
      "E_MACHINE_RANGE",
      at(spec, "size"),
      `a ${kind} region cannot be 2^64 bytes (its RAM block's length is 64-bit)`,
    );
  }
  if (container !== null && addr + size > SIZE_2_64) {
    formatError(
      "E_MACHINE_PAST_END",
      at(spec, "addr"),
      `a subregion of size 0x${size.toString(16)} at this address ends past 2^64`,
    );
  }
  if (kind === "alias") {
    const alias = string(required(obj, "alias", spec), spec, "alias");
    const offset =
      obj.aliasOffset === undefined ? 0n : hexNumber(obj.aliasOffset, spec, "aliasOffset", SIZE_2_64 - 1n, known);
    spec.setAlias(alias, offset);
  } else {
    if ("alias" in obj) formatError("E_MACHINE_FIELD", at(spec, "alias"), `"alias" belongs to kind "alias" only`);
    if ("aliasOffset" in obj) {
      formatError("E_MACHINE_FIELD", at(spec, "aliasOffset"), `"aliasOffset" belongs to kind "alias" only`);
    }
  }
  if (kind !== "romd" && "romdMode" in obj) {
    formatError("E_MACHINE_FIELD", at(spec, "romdMode"), `"romdMode" belongs to kind "romd" only`);
  }
  if (obj.log !== undefined) {
    const logIn = obj.log;
    if (!Array.isArray(logIn))
      formatError("E_MACHINE_TYPE", at(spec, "log"), `expected an array, got ${typeOf(logIn)}`);
    const log: LogClient[] = [];
    for (let i = 0; i < logIn.length; i++) {
      const c = word(logIn[i], spec, `log[${i}]`, LOG_CLIENTS);
      if (log.includes(c)) formatError("E_MACHINE_TYPE", at(spec, `log[${i}]`), `${q(c)} is listed twice`);
      log.push(c);
    }
    spec.setLog(log);
  }
  const ownerIn = obj.owner;
  spec.owner = ownerIn === undefined || ownerIn === null ? null : string(ownerIn, spec, "owner");
  const enabled = boolean(obj, "enabled", spec, true);
  const readonly = boolean(obj, "readonly", spec, kind === "rom");
  const nonvolatile = boolean(obj, "nonvolatile", spec, false);
  spec.setFlags(enabled, readonly, nonvolatile, boolean(obj, "romdMode", spec, true));
  byId.set(id, spec);
  const subregionsIn = obj.subregions;
  if (subregionsIn !== undefined) {
    if (!Array.isArray(subregionsIn)) {
      formatError("E_MACHINE_TYPE", at(spec, "subregions"), `expected an array, got ${typeOf(subregionsIn)}`);
    }
    if (subregionsIn.length > 0) {
      // One at a time into a list of the right length: a spread of a million children would overflow the stack.
      const subregions = new Array<ParsedRegion>(subregionsIn.length);
      spec.subregions = subregions;
      for (let i = 0; i < subregionsIn.length; i++) {
        subregions[i] = parseRegion(subregionsIn[i], spec, i, byId, known, depth + 1);
      }
    }
  }
  return spec;
}

const GREY = 1;
const BLACK = 2;

/**
 * Alias targets must exist, their windows must fit, and following subregions and alias
 * targets must never come back to a region (QEMU would recurse forever rendering it).
 */
function checkGraph(regions: readonly ParsedRegion[], byId: ReadonlyMap<string, ParsedRegion>): void {
  for (const spec of byId.values()) {
    if (spec.alias === null) continue;
    const target = byId.get(spec.alias);
    if (target === undefined)
      formatError("E_MACHINE_DANGLING_ID", at(spec, "alias"), `no region has id ${q(spec.alias)}`);
    if (spec.aliasOffset + spec.size > target.size) {
      formatError(
        "E_MACHINE_ALIAS_WINDOW",
        at(spec, "aliasOffset"),
        `the window 0x${spec.aliasOffset.toString(16)}+0x${spec.size.toString(16)} lies outside ${q(spec.alias)} (size 0x${target.size.toString(16)})`,
      );
    }
  }
  // Iterative depth-first search with colours; a grey region met again closes a cycle. Each
  // region's height (longest chain of subregions and alias targets below it) bounds the
  // recursion of building, rendering and printing, so it is capped as nesting is. Colours and
  // heights are tables by ordinal, the stack two parallel lists: no map entry or object per region.
  const state = new Uint8Array(byId.size);
  const height = new Uint16Array(byId.size);
  // A region's edges: its alias target first, then its subregions.
  const edgeCount = (spec: ParsedRegion): number => (spec.alias === null ? 0 : 1) + spec.subregions.length;
  const edge = (spec: ParsedRegion, i: number): ParsedRegion => {
    if (spec.alias === null) return spec.subregions[i]!;
    return i === 0 ? byId.get(spec.alias)! : spec.subregions[i - 1]!;
  };
  const stack: ParsedRegion[] = [];
  const next: number[] = [];
  const visit = (start: ParsedRegion): void => {
    stack.push(start);
    next.push(0);
    state[start.ordinal] = GREY;
    while (stack.length > 0) {
      const last = stack.length - 1;
      const top = stack[last]!;
      const i = next[last]!;
      if (i === edgeCount(top)) {
        state[top.ordinal] = BLACK;
        let below = 0;
        for (let e = 0; e < i; e++) below = Math.max(below, height[edge(top, e).ordinal]!);
        const h = 1 + below;
        if (h > MAX_NESTING) {
          formatError("E_MACHINE_DEPTH", top.path, `aliases and subregions chain deeper than ${MAX_NESTING} levels`);
        }
        height[top.ordinal] = h;
        stack.pop();
        next.pop();
        continue;
      }
      next[last] = i + 1;
      const n = edge(top, i);
      const s = state[n.ordinal];
      if (s === GREY) cycle(stack, n);
      if (s === 0) {
        state[n.ordinal] = GREY;
        stack.push(n);
        next.push(0);
      }
    }
  };
  for (const spec of regions) if (state[spec.ordinal] === 0) visit(spec);
  for (const spec of byId.values()) if (state[spec.ordinal] === 0) visit(spec);
}

/** Reports the cycle that `n`, grey on the search's `stack`, closes: at the first alias on it. */
function cycle(stack: readonly ParsedRegion[], n: ParsedRegion): never {
  const from = stack.indexOf(n);
  let culprit = stack[stack.length - 1]!;
  const ring: string[] = [];
  for (let i = from; i < stack.length; i++) ring.push(stack[i]!.id);
  ring.push(n.id);
  for (let i = from; i < stack.length; i++) {
    if (stack[i]!.alias !== null) {
      culprit = stack[i]!;
      break;
    }
  }
  formatError("E_MACHINE_CYCLE", at(culprit, "alias"), `aliases and subregions form a cycle: ${ring.join(" -> ")}`);
}
