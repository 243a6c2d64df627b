import type { MemoryListener } from "@memtopo/listener-bus";
import type { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace } from "../../src/index.js";
import { live, type World } from "./misuse-world.js";
import { replica } from "./replica-listener.js";

/**
 * One public call of the sequence. `expect` lists the codes a misuse call must be refused
 * with (absent for valid calls, which may still fail typed, e.g. an add that closes a cycle);
 * `meddle` marks the call that triggers the armed meddler.
 */
export interface Call {
  readonly kind: string;
  readonly expect?: readonly string[];
  readonly meddle?: boolean;
  readonly run: () => void;
}

export interface Intent {
  readonly t: string;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly n: bigint;
  readonly flag: boolean;
}

export type Plan = (w: World, o: Intent) => Call[] | null;

export const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length === 0 ? undefined : list[i % list.length];

export const region = (w: World, i: number): MemoryRegion => w.regions[i % w.regions.length]!;
export const parentless = (w: World) => w.regions.filter((r) => r.container === null);
export const mapped = (w: World) => w.regions.filter((r) => r.container !== null);
export const aliases = (w: World) => w.regions.filter((r) => r.alias !== null);
export const devices = (w: World) => w.regions.filter((r) => r.kind === "io" || r.kind === "rom-device");
export const registered = (w: World): MemoryListener[] =>
  [...w.replicas, w.logger, w.meddler].filter((l) => w.sys.listeners.includes(l));
export const unregistered = (w: World) => w.replicas.filter((r) => !w.sys.listeners.includes(r));
export const destroyed = (w: World) => w.spaces.filter((s) => s.destroyed);

export const one = (kind: string, run: () => void, expect?: readonly string[]): Call[] => [
  expect === undefined ? { kind, run } : { kind, run, expect },
];

/** Valid operations: they may still fail typed by chance (a cycle, a window), never untyped. */
export const VALID: Record<string, Plan> = {
  add: (w, o) => {
    const child = pick(parentless(w), o.a);
    const parent = region(w, o.b);
    if (child === undefined) return null;
    return one("add-subregion", () => parent.addSubregionOverlap(o.n * 0x10n, child, (o.c % 4) - 1));
  },
  del: (w, o) => {
    const child = pick(mapped(w), o.a);
    return child === undefined ? null : one("del-subregion", () => child.container!.delSubregion(child));
  },
  move: (w, o) => one("set-address", () => region(w, o.a).setAddress(o.n * 0x10n)),
  priority: (w, o) => {
    const child = pick(mapped(w), o.a);
    if (child === undefined) return null;
    const parent = child.container!;
    return [
      { kind: "del-subregion", run: () => parent.delSubregion(child) },
      { kind: "add-subregion", run: () => parent.addSubregionOverlap(child.addr, child, (o.c % 5) - 2) },
    ];
  },
  enable: (w, o) => one("set-enabled", () => region(w, o.a).setEnabled(!region(w, o.a).enabled)),
  readonly: (w, o) => one("set-readonly", () => region(w, o.a).setReadonly(o.flag)),
  nonvolatile: (w, o) => one("set-nonvolatile", () => region(w, o.a).setNonvolatile(o.flag)),
  size: (w, o) => one("set-size", () => region(w, o.a).setSize(o.n * 0x10n)),
  aliasOffset: (w, o) => {
    const a = pick(aliases(w), o.a);
    if (a === undefined) return null;
    const room = a.alias!.size - a.size;
    return one("set-alias-offset", () => a.setAliasOffset(room <= 0n ? 0n : (o.n * 0x10n) % (room + 1n)));
  },
  log: (w, o) => {
    const r = region(w, o.a);
    const on = o.flag || (w.vga.get(r) ?? 0) === 0;
    return one("set-log", () => {
      r.setLog(on);
      w.vga.set(r, (w.vga.get(r) ?? 0) + (on ? 1 : -1));
    });
  },
  romd: (w, o) => {
    const r = pick(
      w.regions.filter((x) => x.romDevice),
      o.a,
    );
    return r === undefined ? null : one("set-romd", () => r.setRomdMode(!r.romdMode));
  },
  addFd: (w, o) => {
    const r = pick(devices(w), o.a);
    if (r === undefined) return null;
    const size = [0, 1, 2, 4, 8][o.c % 5]!;
    const at = r.size === 0n ? 0n : o.n % r.size;
    const e = w.notifiers[o.b % w.notifiers.length]!;
    return one("add-eventfd", () => r.addEventfd(at, size, o.flag, size === 0 ? 0n : o.n, e));
  },
  delFd: (w, o) => {
    const r = pick(
      w.regions.filter((x) => x.ioeventfds.length > 0),
      o.a,
    );
    const f = r === undefined ? undefined : pick(r.ioeventfds, o.b);
    if (r === undefined || f === undefined) return null;
    return one("del-eventfd", () => r.delEventfd(f.start, Number(f.size), f.matchData, f.data, f.notifier));
  },
  coalesce: (w, o) => {
    const r = region(w, o.a);
    if (r.size === 0n) return null;
    const at = o.n % r.size;
    const size = 1n + ((o.n * 7n) % (r.size - at));
    const calls = [
      () => r.addCoalescing(at, size),
      () => r.setCoalescing(),
      () => r.clearCoalescing(),
      () => (o.flag ? r.setFlushCoalesced() : r.clearFlushCoalesced()),
    ];
    return one("coalescing", calls[o.c % calls.length]!);
  },
  begin: (w) => one("begin", () => w.sys.begin()),
  commit: (w) => (w.sys.depth === 0 ? null : one("commit", () => w.sys.commit())),
  dirty: (w, o) => {
    const on = w.sys.globalDirtyTracking;
    if (o.flag || on === 0) return one("dirty-log-start", () => w.sys.startDirtyLog((o.c % 7) + 1));
    return one("dirty-log-stop", () => w.sys.stopDirtyLog(on & ((o.c % 7) + 1) || on));
  },
  vm: (w, o) => one("set-vm-running", () => w.sys.setVmRunning(o.flag)),
  sync: (w, o) => one("dirty-log-sync", () => w.sys.syncDirtyLog(o.flag ? region(w, o.a) : undefined)),
  register: (w, o) => {
    const l = pick(unregistered(w), o.a);
    const space = pick(live(w), o.b);
    return l === undefined || space === undefined ? null : one("register", () => w.sys.registerListener(l, space));
  },
  unregister: (w, o) => {
    const l = pick(registered(w), o.a);
    return l === undefined ? null : one("unregister", () => w.sys.unregisterListener(l));
  },
  createSpace: (w, o) => {
    if (live(w).length >= 8) return null;
    const root = region(w, o.a);
    const r = replica(`replica:new${w.spaces.length}`, o.c % 12);
    let made: AddressSpace | undefined;
    return [
      {
        kind: "create-space",
        run: () => {
          made = w.sys.createAddressSpace(`new${w.spaces.length}`, root);
          w.spaces.push(made);
          w.replicas.push(r);
        },
      },
      { kind: "register", run: () => made !== undefined && w.sys.registerListener(r, made) },
    ];
  },
  destroySpace: (w, o) => {
    const space = pick(live(w), o.a);
    if (space === undefined) return null;
    return [
      ...w.sys.listenersOf(space).map((l) => ({ kind: "unregister", run: () => w.sys.unregisterListener(l) })),
      { kind: "destroy-space", run: () => w.sys.destroyAddressSpace(space) },
    ];
  },
};
