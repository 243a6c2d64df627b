import type { CoalescedRange } from "./coalesced.js";
import { describeValue } from "./describe-value.js";
import { RegionTreeError } from "./errors.js";
import type { EventNotifier } from "./event-notifier.js";
import type { RegionHost } from "./host.js";
import { type IoeventfdRecord, ioeventfdBefore, ioeventfdEqual } from "./ioeventfd-record.js";
import { bswap, hex, INT32_MAX, INT32_MIN, isU64, regionSizeFromU64, SIZE_2_64 } from "./numbers.js";
import { type DeviceEndianness, freezeOps, type MemoryRegionOps } from "./ops.js";
import { checkOpsSizes } from "./ops-sizes.js";
import type { RamBacking } from "./ram.js";

/**
 * The constructor a region came from. QEMU keeps flags rather than a kind (a ROM is
 * RAM that is read-only, and `setReadonly(false)` turns it into RAM); `kind` records
 * the constructor, the flags below decide behaviour.
 */
export type RegionKind = "container" | "io" | "ram" | "rom" | "rom-device" | "ram-device" | "alias";

/** `DIRTY_MEMORY_VGA`, `_CODE`, `_MIGRATION` as mask bits. */
export const DIRTY_LOG_VGA = 1;
export const DIRTY_LOG_CODE = 2;
export const DIRTY_LOG_MIGRATION = 4;

interface CommonInit {
  /** Label only; not unique. `null` prints `(null)` as QEMU does for unnamed regions. */
  readonly name: string | null;
  /** Size in bytes, up to 2^64; UINT64_MAX is taken as 2^64, as QEMU does. */
  readonly size: bigint;
  /** Lifetime owner label, shown by `info mtree -o`. */
  readonly owner?: string | null;
  /**
   * Initial `addr` and `priority`. Adding the region to a container overwrites both; they
   * matter for a region that stays parentless (a view root or an alias target prints them,
   * and a view root's `addr` shifts its view).
   */
  readonly addr?: bigint;
  readonly priority?: number;
}

export type MemoryRegionInit =
  | (CommonInit & { readonly kind: "container" })
  | (CommonInit & { readonly kind: "io"; readonly ops?: MemoryRegionOps | null })
  | (CommonInit & { readonly kind: "ram" | "rom" | "ram-device" })
  | (CommonInit & { readonly kind: "rom-device"; readonly ops: MemoryRegionOps })
  | (CommonInit & { readonly kind: "alias"; readonly target: MemoryRegion; readonly offset: bigint });

let nextRegionId = 1;

/*
 * What most regions never have, shared: a million-region tree spent four empty collections per
 * region on them. Never mutated; a region makes its own on its first entry.
 */
const NO_REGIONS: readonly MemoryRegion[] = Object.freeze([]);
const NO_IOEVENTFDS: readonly IoeventfdRecord[] = Object.freeze([]);
const NO_COALESCED: readonly CoalescedRange[] = Object.freeze([]);
const NO_ALIASES: ReadonlySet<MemoryRegion> = new Set();

/** The constructors, by the index a region keeps in its flags. */
const KINDS: readonly RegionKind[] = ["container", "io", "ram", "rom", "rom-device", "ram-device", "alias"];
/*
 * A region's flags, one small integer: the kind's index in the low bits, then what the kind implies and the
 * boolean state. A million-region machine spent a field of eight bytes on each of them.
 */
const KIND_MASK = 7;
const ENABLED = 1 << 3;
const READONLY = 1 << 4;
const NONVOLATILE = 1 << 5;
const ROMD_MODE = 1 << 6;
const FLUSH_COALESCED = 1 << 7;
const RAM = 1 << 8;
const ROM_DEVICE = 1 << 9;
const RAM_DEVICE = 1 << 10;
const TERMINATES = 1 << 11;

/** The subregion lists of a region that has or had subregions (most regions are leaves and never need one). */
interface Children {
  /**
   * The list backwards (lower priority first; equal priority, the oldest first), so that the usual insertion, the
   * newest region of the lowest priority, is an append: a container of a million children is built in linear
   * time.
   */
  readonly reversed: MemoryRegion[];
  /** The list in QEMU's order, built again when it is read after a change. */
  listed: readonly MemoryRegion[] | null;
}

/**
 * What few regions ever have: dirty-log clients, ioeventfds, coalesced ranges, aliases pointing at it. Made on
 * the first of them; every alias target has one.
 */
interface RareState {
  vgaLogCount: number;
  dirtyLogMask: number;
  ioeventfds: IoeventfdRecord[] | null;
  coalesced: readonly CoalescedRange[];
  /** The aliases whose target is this region, in creation order. */
  aliasedBy: Set<MemoryRegion> | null;
  /** How many mapped aliases reach this region (QEMU's `mapped_via_alias`). */
  mappedViaAlias: number;
}

function rareState(): RareState {
  return {
    vgaLogCount: 0,
    dirtyLogMask: 0,
    ioeventfds: null,
    coalesced: NO_COALESCED,
    aliasedBy: null,
    mappedViaAlias: 0,
  };
}

function fail(code: string, message: string, path?: string): never {
  throw new RegionTreeError(code, message, path === undefined ? {} : { path });
}

function checkU64(value: unknown, what: string): bigint {
  if (!isU64(value)) {
    fail("E_INVALID_ADDRESS", `${what} must be a bigint in [0, 2^64), got ${describeValue(value)}`);
  }
  return value;
}

/**
 * A RAM-backed region's RAM block is measured in a 64-bit length (QEMU's `ram_addr_t`), so
 * 2^64 bytes of RAM cannot exist; containers, I/O and aliases can be 2^64 bytes.
 */
function checkRamSize(size: bigint, kind: string): void {
  if (size === SIZE_2_64) {
    fail("E_INVALID_SIZE", `a ${kind} region cannot be 2^64 bytes: its RAM block's length is a 64-bit number`);
  }
}

function checkSize(value: unknown, what = "size"): bigint {
  if (typeof value !== "bigint" || value < 0n || value > SIZE_2_64) {
    fail("E_INVALID_SIZE", `${what} must be a bigint in [0, 2^64], got ${describeValue(value)}`);
  }
  return regionSizeFromU64(value);
}

function checkPriority(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    fail("E_INVALID_PRIORITY", `priority must be a 32-bit signed integer, got ${describeValue(value)}`);
  }
  return value;
}

function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") fail("E_INVALID_ARGUMENT", `${what} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/**
 * QEMU's MemoryRegion. Construct through a {@link RegionHost} (the facade's
 * MemorySystem, or a {@link StandaloneHost}); regions of different hosts never mix.
 * Every mutator validates first and throws a {@link RegionTreeError} with the tree
 * unchanged, then mutates inside a host transaction and marks what became pending;
 * nothing renders by itself.
 */
export class MemoryRegion {
  /** Identity for tests, sorting and JSON; names are not unique. */
  readonly id: number;
  readonly host: RegionHost;
  readonly name: string | null;
  readonly owner: string | null;
  readonly alias: MemoryRegion | null;
  readonly ops: MemoryRegionOps | null;
  /** The RAM block of RAM, ROM, ROM device and RAM device regions. */
  readonly ramBlock: RamBacking | null;

  // Few fields, and nothing allocated for what most regions never have: a million-region machine is a million
  // of these objects, which every young-generation collection of the build copies.
  #size: bigint;
  #addr: bigint;
  #priority: number;
  #container: MemoryRegion | null = null;
  #flags: number;
  #aliasOffset: bigint;
  /** Null for a region that never had subregions. {@link subregions} gives them in QEMU's order. */
  #children: Children | null = null;
  #rare: RareState | null = null;

  constructor(host: RegionHost, init: MemoryRegionInit) {
    if (host === null || typeof host !== "object") fail("E_INVALID_ARGUMENT", "host must be a RegionHost");
    if (init === null || typeof init !== "object") fail("E_INVALID_ARGUMENT", "init must be an object");
    const { kind } = init;
    if (init.name !== null && typeof init.name !== "string") {
      fail("E_INVALID_ARGUMENT", `name must be a string or null, got ${describeValue(init.name)}`);
    }
    const size = checkSize(init.size);
    const addr = init.addr === undefined ? 0n : checkU64(init.addr, "addr");
    const priority = init.priority === undefined ? 0 : checkPriority(init.priority);
    const owner = init.owner ?? null;
    if (owner !== null && typeof owner !== "string") fail("E_INVALID_ARGUMENT", "owner must be a string or null");
    let alias: MemoryRegion | null = null;
    let aliasOffset = 0n;
    let ops: MemoryRegionOps | null = null;
    switch (kind) {
      case "container":
      case "ram":
      case "rom":
      case "ram-device":
        break;
      case "io":
        ops = init.ops ?? null;
        break;
      case "rom-device":
        if (init.ops === null || typeof init.ops !== "object") fail("E_INVALID_ARGUMENT", "a ROM device needs ops");
        ops = init.ops;
        break;
      case "alias": {
        if (!(init.target instanceof MemoryRegion)) fail("E_INVALID_ARGUMENT", "alias target must be a MemoryRegion");
        if (init.target.host !== host) fail("E_FOREIGN_REGION", "alias target belongs to another memory system");
        aliasOffset = checkU64(init.offset, "alias offset");
        checkAliasWindow(init.target, aliasOffset, size);
        alias = init.target;
        break;
      }
      default:
        fail("E_INVALID_KIND", `unknown region kind ${describeValue(kind)}`);
    }
    if (ops !== null && typeof ops !== "object") fail("E_INVALID_ARGUMENT", "ops must be an object");
    if (ops !== null) checkOpsSizes(ops);
    if (kind === "ram" || kind === "rom" || kind === "ram-device" || kind === "rom-device") checkRamSize(size, kind);

    const ram = kind === "ram" || kind === "rom" || kind === "ram-device";
    this.id = nextRegionId++;
    this.host = host;
    this.name = init.name;
    this.owner = owner;
    this.alias = alias;
    this.ops = ops;
    this.#size = size;
    this.#addr = addr;
    this.#priority = priority;
    this.#flags =
      KINDS.indexOf(kind) |
      ENABLED |
      ROMD_MODE |
      (kind === "rom" ? READONLY : 0) |
      (ram ? RAM : 0) |
      (kind === "rom-device" ? ROM_DEVICE : 0) |
      (kind === "ram-device" ? RAM_DEVICE : 0) |
      (kind !== "container" && kind !== "alias" ? TERMINATES : 0);
    this.#aliasOffset = aliasOffset;
    if (alias !== null) {
      const rare = MemoryRegion.#rareOf(alias);
      rare.aliasedBy ??= new Set();
      rare.aliasedBy.add(this);
    }
    const backed = ram || kind === "rom-device";
    this.ramBlock = backed ? host.ramAllocator.allocate(init.name ?? "(null)", size) : null;
    if (ops !== null) freezeOps(ops);
  }

  /** The constructor the region came from. */
  get kind(): RegionKind {
    return KINDS[this.#flags & KIND_MASK]!;
  }
  get romDevice(): boolean {
    return (this.#flags & ROM_DEVICE) !== 0;
  }
  get ram(): boolean {
    return (this.#flags & RAM) !== 0;
  }
  get ramDevice(): boolean {
    return (this.#flags & RAM_DEVICE) !== 0;
  }
  /** Renders itself: fills the gaps its subregions leave. */
  get terminates(): boolean {
    return (this.#flags & TERMINATES) !== 0;
  }

  get size(): bigint {
    return this.#size;
  }
  /** Offset inside the container (QEMU's `mr->addr`). */
  get addr(): bigint {
    return this.#addr;
  }
  get priority(): number {
    return this.#priority;
  }
  get container(): MemoryRegion | null {
    return this.#container;
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
  /** Only meaningful for ROM devices; true for every other region. */
  get romdMode(): boolean {
    return (this.#flags & ROMD_MODE) !== 0;
  }
  get aliasOffset(): bigint {
    return this.#aliasOffset;
  }
  /** Subregions in list order: higher priority first; equal priority, the newest first. */
  get subregions(): readonly MemoryRegion[] {
    const children = this.#children;
    if (children === null) return NO_REGIONS;
    if (children.listed === null) children.listed = children.reversed.slice().reverse();
    return children.listed;
  }
  /** The region's own dirty-log clients (VGA); global clients are added by the system at render time. */
  get dirtyLogMask(): number {
    return this.#rare === null ? 0 : this.#rare.dirtyLogMask;
  }
  /** The region's ioeventfds in QEMU's order, in region offsets. */
  get ioeventfds(): readonly IoeventfdRecord[] {
    return this.#rare?.ioeventfds ?? NO_IOEVENTFDS;
  }
  /** Coalesced MMIO/PIO ranges, in the order they were added (QEMU's `mr->coalesced`). */
  get coalesced(): readonly CoalescedRange[] {
    return this.#rare === null ? NO_COALESCED : this.#rare.coalesced;
  }
  /** Dispatch to this region flushes held-back coalesced writes first (QEMU's `flush_coalesced_mmio`). */
  get flushCoalescedMmio(): boolean {
    return (this.#flags & FLUSH_COALESCED) !== 0;
  }
  /** How many mapped aliases reach this region (QEMU's `mapped_via_alias`). */
  get mappedViaAlias(): number {
    return this.#rare === null ? 0 : this.#rare.mappedViaAlias;
  }
  /** The aliases whose target is this region (the reverse of `alias`), in creation order. */
  get aliasedBy(): ReadonlySet<MemoryRegion> {
    return this.#rare?.aliasedBy ?? NO_ALIASES;
  }
  /** QEMU's `memory_region_is_mapped`. */
  get isMapped(): boolean {
    return this.#container !== null || this.mappedViaAlias > 0;
  }
  /** QEMU's `memory_region_is_romd`. */
  get isRomd(): boolean {
    return (this.#flags & (ROM_DEVICE | ROMD_MODE)) === (ROM_DEVICE | ROMD_MODE);
  }
  /** QEMU's `memory_region_is_rom`. */
  get isRom(): boolean {
    return (this.#flags & (RAM | READONLY)) === (RAM | READONLY);
  }

  /** The word `info mtree` prints (QEMU's `memory_region_type`). */
  type(): "ram" | "rom" | "romd" | "ramd" | "i/o" {
    let mr: MemoryRegion = this;
    while (mr.alias !== null) mr = mr.alias;
    if (mr.ramDevice) return "ramd";
    if (mr.isRomd) return "romd";
    if (mr.isRom) return "rom";
    if (mr.ram) return "ram";
    return "i/o";
  }

  /** `memory_region_add_subregion`: priority is reset to 0. */
  addSubregion(offset: bigint, child: MemoryRegion): void {
    MemoryRegion.#addSubregion(this, offset, child, 0);
  }

  /** `memory_region_add_subregion_overlap`. */
  addSubregionOverlap(offset: bigint, child: MemoryRegion, priority: number): void {
    MemoryRegion.#addSubregion(this, offset, child, checkPriority(priority));
  }

  static #addSubregion(container: MemoryRegion, offset: bigint, child: MemoryRegion, priority: number): void {
    if (!(child instanceof MemoryRegion)) fail("E_INVALID_ARGUMENT", "subregion must be a MemoryRegion");
    checkU64(offset, "subregion offset");
    if (child.host !== container.host) fail("E_FOREIGN_REGION", "subregion belongs to another memory system");
    if (child.#container !== null) {
      fail("E_REGION_HAS_CONTAINER", `region ${label(child)} is already a subregion of ${label(child.#container)}`);
    }
    if (offset + child.#size > SIZE_2_64) {
      fail("E_SUBREGION_PAST_END", `region ${label(child)} at ${hex(offset)} would end past 2^64`);
    }
    // Only a region that is some container's subregion or some alias's target can be reached from another: a
    // tree built bottom-up, as a machine file loads, never walks the child's subtree.
    const reachable = container.#container !== null || (container.#rare !== null && container.#rare.aliasedBy !== null);
    if (child === container || (reachable && reaches(child, container))) {
      fail("E_CYCLE", `adding ${label(child)} under ${label(container)} would make a cycle`);
    }
    MemoryRegion.#link(container, offset, child, priority);
  }

  static #link(container: MemoryRegion, offset: bigint, child: MemoryRegion, priority: number): void {
    const changed = container.enabled && child.enabled ? child : null;
    MemoryRegion.#mutate(container, changed, MemoryRegion.#linkChild, child, offset, priority);
  }

  static #linkChild(container: MemoryRegion, child: MemoryRegion, offset: bigint, priority: number): void {
    child.#priority = priority;
    child.#container = container;
    // Every alias target has its rare state (made when the alias was).
    for (let a = child.alias; a !== null; a = a.alias) a.#rare!.mappedViaAlias++;
    child.#addr = offset;
    // After every region of the same or a lower priority (binary search: the list is sorted by priority).
    if (container.#children === null) container.#children = { reversed: [], listed: null };
    const children = container.#children;
    const list = children.reversed;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.#priority <= priority) lo = mid + 1;
      else hi = mid;
    }
    if (lo === list.length) list.push(child);
    else list.splice(lo, 0, child);
    children.listed = null;
  }

  /** `memory_region_del_subregion`: `addr` and `priority` keep their values. */
  delSubregion(child: MemoryRegion): void {
    if (!(child instanceof MemoryRegion)) fail("E_INVALID_ARGUMENT", "subregion must be a MemoryRegion");
    if (child.#container !== this)
      fail("E_NOT_A_SUBREGION", `region ${label(child)} is not a subregion of ${label(this)}`);
    MemoryRegion.#unlink(this, child);
  }

  static #unlink(container: MemoryRegion, child: MemoryRegion): void {
    MemoryRegion.#mutate(
      container,
      container.enabled && child.enabled ? child : null,
      MemoryRegion.#unlinkChild,
      child,
      undefined,
      undefined,
    );
  }

  static #unlinkChild(container: MemoryRegion, child: MemoryRegion): void {
    child.#container = null;
    for (let a = child.alias; a !== null; a = a.alias) a.#rare!.mappedViaAlias--;
    // A child's container has its lists (made when the child was linked).
    const children = container.#children!;
    children.reversed.splice(children.reversed.lastIndexOf(child), 1);
    children.listed = null;
  }

  /** `memory_region_set_enabled`: always schedules a re-render when the flag flips. */
  setEnabled(enabled: boolean): void {
    checkBoolean(enabled, "enabled");
    if (enabled === this.enabled) return;
    MemoryRegion.#mutate(this, this, MemoryRegion.#setEnabledField, enabled, undefined, undefined);
  }

  /** `memory_region_set_size`: UINT64_MAX means 2^64. */
  setSize(size: bigint): void {
    const s = checkSize(size);
    if (s === this.#size) return;
    if (this.ramBlock !== null) checkRamSize(s, this.kind);
    if (this.#container !== null && this.#addr + s > SIZE_2_64) {
      fail("E_SUBREGION_PAST_END", `region ${label(this)} at ${hex(this.#addr)} would end past 2^64`);
    }
    if (this.alias !== null) checkAliasWindow(this.alias, this.#aliasOffset, s);
    MemoryRegion.#mutate(this, this, MemoryRegion.#setSizeField, s, undefined, undefined);
  }

  /**
   * `memory_region_set_address`: re-adds the region to its container, which moves it to
   * the front of its priority group; without a container only `addr` changes, with no update.
   */
  setAddress(addr: bigint): void {
    checkU64(addr, "address");
    if (addr === this.#addr) return;
    const container = this.#container;
    if (container === null) {
      this.#addr = addr;
      return;
    }
    if (addr + this.#size > SIZE_2_64) {
      fail("E_SUBREGION_PAST_END", `region ${label(this)} at ${hex(addr)} would end past 2^64`);
    }
    MemoryRegion.#transaction(this, () => {
      const priority = this.#priority;
      MemoryRegion.#unlink(container, this);
      MemoryRegion.#link(container, addr, this, priority);
    });
  }

  /** `memory_region_set_alias_offset`. */
  setAliasOffset(offset: bigint): void {
    if (this.alias === null) fail("E_NOT_AN_ALIAS", `region ${label(this)} is not an alias`);
    checkU64(offset, "alias offset");
    if (offset === this.#aliasOffset) return;
    checkAliasWindow(this.alias, offset, this.#size);
    MemoryRegion.#mutate(
      this,
      this.enabled ? this : null,
      MemoryRegion.#setAliasOffsetField,
      offset,
      undefined,
      undefined,
    );
  }

  /** `memory_region_set_readonly`. */
  setReadonly(readonly: boolean): void {
    checkBoolean(readonly, "readonly");
    if (readonly === this.readonly) return;
    MemoryRegion.#mutate(
      this,
      this.enabled ? this : null,
      MemoryRegion.#setReadonlyField,
      readonly,
      undefined,
      undefined,
    );
  }

  /** `memory_region_set_nonvolatile`. */
  setNonvolatile(nonvolatile: boolean): void {
    checkBoolean(nonvolatile, "nonvolatile");
    if (nonvolatile === this.nonvolatile) return;
    MemoryRegion.#mutate(
      this,
      this.enabled ? this : null,
      MemoryRegion.#setNonvolatileField,
      nonvolatile,
      undefined,
      undefined,
    );
  }

  /** `memory_region_rom_device_set_romd`: romd on, reads come from RAM; off, every access goes to the ops. */
  setRomdMode(romdMode: boolean): void {
    checkBoolean(romdMode, "romd mode");
    if (!this.romDevice) fail("E_NOT_A_ROM_DEVICE", `region ${label(this)} is not a ROM device`);
    if (romdMode === this.romdMode) return;
    MemoryRegion.#mutate(
      this,
      this.enabled ? this : null,
      MemoryRegion.#setRomdModeField,
      romdMode,
      undefined,
      undefined,
    );
  }

  /**
   * `memory_region_set_log` for the VGA client: a use count, where only the 0↔1
   * transitions change the mask.
   */
  setLog(on: boolean, client: "vga" = "vga"): void {
    checkBoolean(on, "log");
    if (client !== "vga")
      fail("E_INVALID_ARGUMENT", `only the "vga" dirty-log client is per region, got ${describeValue(client)}`);
    const before = this.#rare === null ? 0 : this.#rare.vgaLogCount;
    if (!on && before === 0) fail("E_LOG_UNDERFLOW", `region ${label(this)} has no VGA log client to stop`);
    const count = before + (on ? 1 : -1);
    const crosses = count > 0 !== before > 0;
    if (!crosses) {
      this.#rare!.vgaLogCount = count;
      return;
    }
    MemoryRegion.#mutate(this, this.enabled ? this : null, MemoryRegion.#setVgaLogCount, count, undefined, undefined);
  }

  /**
   * `memory_region_add_eventfd`: a write of `size` bytes (0: any) at region offset
   * `offset` signals `notifier`; with `matchData`, only when the value equals `data`.
   * `data` is given in the target's byte order and stored in the device's.
   */
  addEventfd(offset: bigint, size: number, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    const record = MemoryRegion.#ioeventfdRecord(this, offset, size, matchData, data, notifier);
    const list = this.#rare?.ioeventfds ?? [];
    let at = list.findIndex((other) => ioeventfdBefore(record, other));
    if (at < 0) at = list.length;
    MemoryRegion.#transaction(this, () => {
      list.splice(at, 0, record);
      MemoryRegion.#rareOf(this).ioeventfds = list;
      if (this.enabled) this.host.ioeventfdsChanged(this);
    });
  }

  /** `memory_region_del_eventfd`: removes the first record equal to the probe (size 0 matches any size). */
  delEventfd(offset: bigint, size: number, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    const probe = MemoryRegion.#ioeventfdRecord(this, offset, size, matchData, data, notifier);
    const list = this.#rare?.ioeventfds ?? NO_IOEVENTFDS;
    const at = list.findIndex((other) => ioeventfdEqual(probe, other));
    if (at < 0) fail("E_NO_SUCH_IOEVENTFD", `region ${label(this)} has no ioeventfd at ${hex(offset)} like this`);
    MemoryRegion.#transaction(this, () => {
      this.#rare!.ioeventfds!.splice(at, 1);
      if (this.enabled) this.host.ioeventfdsChanged(this);
    });
  }

  /**
   * `memory_region_add_coalescing`: writes to region offsets [offset, offset + size) may be
   * held back by the accelerator and replayed later. Listeners hear of it at once
   * (`coalesced_io_add`, no transaction), and the region then flushes before dispatch.
   */
  addCoalescing(offset: bigint, size: bigint): void {
    checkU64(offset, "coalesced offset");
    checkSize(size);
    if (size === 0n || offset + size > this.#size) {
      fail(
        "E_COALESCED_RANGE",
        `coalesced range ${hex(offset)}+${hex(size)} must be non-empty and inside region ${label(this)} (size ${hex(this.#size)})`,
      );
    }
    const range: CoalescedRange = Object.freeze({ offset, size });
    const rare = MemoryRegion.#rareOf(this);
    rare.coalesced = [...rare.coalesced, range];
    try {
      this.host.coalescingChanged?.(this, range, true);
    } finally {
      this.#flags |= FLUSH_COALESCED;
    }
  }

  /** `memory_region_set_coalescing`: the whole region, replacing any ranges. */
  setCoalescing(): void {
    if (this.#size === 0n) fail("E_COALESCED_RANGE", `region ${label(this)} is empty`);
    this.clearCoalescing();
    this.addCoalescing(0n, this.#size);
  }

  /**
   * `memory_region_clear_coalescing`: flushes held-back writes, stops flushing before
   * dispatch, and removes the ranges head first, telling listeners (`coalesced_io_del`).
   */
  clearCoalescing(): void {
    const rare = this.#rare;
    if (rare === null || rare.coalesced.length === 0) return;
    this.host.flushCoalescedMmio?.();
    this.#flags &= ~FLUSH_COALESCED;
    const failures: unknown[] = [];
    while (rare.coalesced.length > 0) {
      const [range, ...rest] = rare.coalesced;
      rare.coalesced = rest;
      try {
        this.host.coalescingChanged?.(this, range!, false);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /** `memory_region_set_flush_coalesced`. */
  setFlushCoalesced(): void {
    this.#flags |= FLUSH_COALESCED;
  }

  /** `memory_region_clear_flush_coalesced`: it only sticks while the region has no coalesced ranges. */
  clearFlushCoalesced(): void {
    this.host.flushCoalescedMmio?.();
    this.#flags &= ~FLUSH_COALESCED;
    if (this.coalesced.length > 0) this.#flags |= FLUSH_COALESCED;
  }

  static #ioeventfdRecord(
    mr: MemoryRegion,
    offset: bigint,
    size: number,
    matchData: boolean,
    data: bigint,
    notifier: EventNotifier,
  ): IoeventfdRecord {
    checkU64(offset, "ioeventfd offset");
    if (![0, 1, 2, 4, 8].includes(size))
      fail("E_INVALID_SIZE", `ioeventfd size must be 0, 1, 2, 4 or 8, got ${describeValue(size)}`);
    checkBoolean(matchData, "matchData");
    checkU64(data, "ioeventfd data");
    if (notifier === null || typeof notifier !== "object" || typeof notifier.id !== "number") {
      fail("E_INVALID_ARGUMENT", "ioeventfd notifier must be an EventNotifier");
    }
    const stored = size === 0 ? data : adjustEndianness(data, size, mr.ops?.endianness, mr.host.targetBigEndian);
    return { start: offset, size: BigInt(size), matchData, data: stored, notifier };
  }

  /**
   * `set(this, a, b, c)` inside a `memory_region_transaction_begin`/`_commit` of its own, the one place a
   * region change opens one; a topology update is scheduled for `changed` unless it is null. The commit
   * runs even when `set` throws, so the transaction depth stays balanced. The setters are static and take
   * their arguments, so a change allocates no closure (a PAM toggle is 26 of them, a BAR toggle a link).
   */
  static #mutate<A, B, C>(
    mr: MemoryRegion,
    changed: MemoryRegion | null,
    set: (mr: MemoryRegion, a: A, b: B, c: C) => void,
    a: A,
    b: B,
    c: C,
  ): void {
    const host = mr.host;
    host.begin();
    try {
      if (changed !== null) host.topologyWillChange?.(changed);
      set(mr, a, b, c);
      if (changed !== null) host.topologyChanged();
    } finally {
      host.commit();
    }
  }

  /** The region's rare state, made on first use. */
  static #rareOf(mr: MemoryRegion): RareState {
    if (mr.#rare === null) mr.#rare = rareState();
    return mr.#rare;
  }

  static #setEnabledField(mr: MemoryRegion, enabled: boolean): void {
    mr.#flags = enabled ? mr.#flags | ENABLED : mr.#flags & ~ENABLED;
  }
  static #setSizeField(mr: MemoryRegion, size: bigint): void {
    mr.#size = size;
  }
  static #setAliasOffsetField(mr: MemoryRegion, offset: bigint): void {
    mr.#aliasOffset = offset;
  }
  static #setReadonlyField(mr: MemoryRegion, readonly: boolean): void {
    mr.#flags = readonly ? mr.#flags | READONLY : mr.#flags & ~READONLY;
  }
  static #setNonvolatileField(mr: MemoryRegion, nonvolatile: boolean): void {
    mr.#flags = nonvolatile ? mr.#flags | NONVOLATILE : mr.#flags & ~NONVOLATILE;
  }
  static #setRomdModeField(mr: MemoryRegion, romdMode: boolean): void {
    mr.#flags = romdMode ? mr.#flags | ROMD_MODE : mr.#flags & ~ROMD_MODE;
  }
  static #setVgaLogCount(mr: MemoryRegion, count: number): void {
    const rare = MemoryRegion.#rareOf(mr);
    rare.vgaLogCount = count;
    rare.dirtyLogMask = count > 0 ? rare.dirtyLogMask | DIRTY_LOG_VGA : rare.dirtyLogMask & ~DIRTY_LOG_VGA;
  }

  /** `body` in a transaction of its own: what it schedules is done at the commit. */
  static #transaction(mr: MemoryRegion, body: () => void): void {
    MemoryRegion.#mutate(mr, null, MemoryRegion.#runBody, body, undefined, undefined);
  }

  static #runBody(_mr: MemoryRegion, body: () => void): void {
    body();
  }

  toString(): string {
    return `MemoryRegion(${label(this)})`;
  }
}

/** Whether the device sees the bytes of an access in the other order than the target's. */
export function deviceIsBigEndian(endianness: DeviceEndianness | undefined, targetBigEndian: boolean): boolean {
  switch (endianness) {
    case "big":
      return true;
    case "little":
    case "host":
      return false;
    default:
      return targetBigEndian;
  }
}

/** Reverses the low `size` bytes of `value` when the device's byte order differs from the target's. */
export function adjustEndianness(
  value: bigint,
  size: number,
  endianness: DeviceEndianness | undefined,
  targetBigEndian: boolean,
): bigint {
  return deviceIsBigEndian(endianness, targetBigEndian) === targetBigEndian ? value : bswap(value, size);
}

function label(mr: MemoryRegion): string {
  return mr.name === null ? `#${mr.id} (null)` : `"${mr.name}"`;
}

function checkAliasWindow(target: MemoryRegion, offset: bigint, size: bigint): void {
  if (offset + size > target.size) {
    fail(
      "E_ALIAS_WINDOW",
      `alias window ${hex(offset)}+${hex(size)} lies outside its target ${label(target)} of size ${hex(target.size)}`,
    );
  }
}

/** Whether `goal` can be reached from `from` through subregions and alias targets. */
function reaches(from: MemoryRegion, goal: MemoryRegion): boolean {
  const stack = [from];
  const seen = new Set<MemoryRegion>();
  while (stack.length > 0) {
    const mr = stack.pop()!;
    if (mr === goal) return true;
    if (seen.has(mr)) continue;
    seen.add(mr);
    if (mr.alias !== null) stack.push(mr.alias);
    for (const s of mr.subregions) stack.push(s);
  }
  return false;
}
