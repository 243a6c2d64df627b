import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import type { AddressSpace } from "../../src/index.js";
import { MEDDLER_ACTIONS } from "./misuse-meddler.js";
import { live, type World } from "./misuse-world.js";
import { replica } from "./replica-listener.js";
import {
  aliases,
  type Call,
  destroyed,
  type Intent,
  mapped,
  one,
  type Plan,
  parentless,
  pick,
  region,
  registered,
  unregistered,
  VALID,
} from "./valid-ops.js";

// Values that are not what an argument must be: out of range, wrong type, not a number.
const BAD_U64: readonly unknown[] = [-1n, SIZE_2_64, SIZE_2_64 + 0x10n, 1, 0.5, "0x10", null, undefined, Number.NaN];
const BAD_SIZE: readonly unknown[] = [-1n, SIZE_2_64 + 1n, 16, "0x10", null, -0.5];
const BAD_PRIORITY: readonly unknown[] = [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN, "1", 1n, null];
const BAD_FD_SIZE: readonly unknown[] = [3, 16, -1, 1.5, "4", 4n];
const BAD_BOOL: readonly unknown[] = [1, 0, "true", null, undefined, {}];
const BAD_FLAGS: readonly unknown[] = [0, 8, -1, 1.5, "1", 1n, Number.NaN];
const BAD_LISTENERS: readonly unknown[] = [
  null,
  5,
  "listener",
  { name: "neg", priority: -1 },
  { name: "huge", priority: 2 ** 32 },
  { name: "frac", priority: 1.5 },
  { name: "both", logSync() {}, logSyncGlobal() {} },
  { name: "not-a-function", regionAdd: 5 },
];

/** Casts a hostile value to the parameter type a public entry declares: the point is to pass it anyway. */
const as = <T>(v: unknown): T => v as T;

/** Everything `mr` reaches downward (subregions, alias targets): the regions it may not be added under. */
function below(mr: MemoryRegion): MemoryRegion[] {
  const out = new Set<MemoryRegion>();
  const stack = [mr];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (out.has(x)) continue;
    out.add(x);
    if (x.alias !== null) stack.push(x.alias);
    stack.push(...x.subregions);
  }
  return [...out];
}

/** Misuse: each plan's marked call must be refused with one of its codes, changing nothing. */
const MISUSE: Record<string, Plan> = {
  addTwice: (w, o) => {
    const child = pick(mapped(w), o.a);
    if (child === undefined) return null;
    return one("add-twice", () => region(w, o.b).addSubregion(0n, child), ["E_REGION_HAS_CONTAINER"]);
  },
  delNotChild: (w, o) => {
    const parent = region(w, o.a);
    const child = pick(
      w.regions.filter((r) => r.container !== parent),
      o.b,
    );
    return child === undefined ? null : one("del-not-child", () => parent.delSubregion(child), ["E_NOT_A_SUBREGION"]);
  },
  cycle: (w, o) => {
    const top = pick(parentless(w), o.a);
    if (top === undefined) return null;
    const under = pick(below(top), o.b)!;
    return one("cycle", () => under.addSubregionOverlap(0n, top, 1), ["E_CYCLE"]);
  },
  foreign: (w, o) => {
    const mine = region(w, o.a);
    const theirs = w.other.region;
    const calls: Call[] = [
      { kind: "foreign-child", run: () => mine.addSubregion(0n, theirs), expect: ["E_FOREIGN_REGION"] },
      { kind: "foreign-parent", run: () => theirs.addSubregion(0x8000n, mine), expect: ["E_FOREIGN_REGION"] },
      { kind: "foreign-root", run: () => w.sys.createAddressSpace("x", theirs), expect: ["E_FOREIGN_REGION"] },
      {
        kind: "foreign-alias",
        run: () => new MemoryRegion(w.sys, { kind: "alias", name: "x", size: 0x10n, target: theirs, offset: 0n }),
        expect: ["E_FOREIGN_REGION"],
      },
      { kind: "foreign-sync", run: () => w.sys.syncDirtyLog(theirs), expect: ["E_FOREIGN_REGION"] },
      {
        kind: "foreign-space",
        run: () => w.sys.registerListener(replica("x"), w.other.as),
        expect: ["E_UNKNOWN_ADDRESS_SPACE"],
      },
      {
        kind: "foreign-destroy",
        run: () => w.sys.destroyAddressSpace(w.other.as),
        expect: ["E_UNKNOWN_ADDRESS_SPACE"],
      },
    ];
    return [calls[o.c % calls.length]!];
  },
  badNumber: (w, o) => {
    const r = region(w, o.a);
    const alias = pick(aliases(w), o.a);
    const space = pick(live(w), o.b);
    const v = (list: readonly unknown[]) => list[o.b % list.length];
    const calls: Call[] = [
      { kind: "bad-offset", run: () => r.addSubregion(as(v(BAD_U64)), r), expect: ["E_INVALID_ADDRESS"] },
      { kind: "bad-address", run: () => r.setAddress(as(v(BAD_U64))), expect: ["E_INVALID_ADDRESS"] },
      { kind: "bad-size", run: () => r.setSize(as(v(BAD_SIZE))), expect: ["E_INVALID_SIZE"] },
      {
        kind: "bad-priority",
        run: () => region(w, o.b).addSubregionOverlap(0n, r, as(v(BAD_PRIORITY))),
        expect: ["E_INVALID_PRIORITY"],
      },
      {
        kind: "bad-fd-offset",
        run: () => r.addEventfd(as(v(BAD_U64)), 0, false, 0n, w.notifiers[0]!),
        expect: ["E_INVALID_ADDRESS"],
      },
      {
        kind: "bad-fd-size",
        run: () => r.addEventfd(0n, as(v(BAD_FD_SIZE)), false, 0n, w.notifiers[0]!),
        expect: ["E_INVALID_SIZE"],
      },
      {
        kind: "bad-fd-data",
        run: () => r.addEventfd(0n, 4, true, as(v(BAD_U64)), w.notifiers[0]!),
        expect: ["E_INVALID_ADDRESS"],
      },
      {
        kind: "bad-fd-notifier",
        run: () => r.addEventfd(0n, 4, true, 1n, as(v(BAD_BOOL))),
        expect: ["E_INVALID_ARGUMENT"],
      },
      { kind: "bad-boolean", run: () => r.setEnabled(as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-boolean", run: () => r.setReadonly(as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-boolean", run: () => r.setLog(as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-boolean", run: () => w.sys.setVmRunning(as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-dirty-flags", run: () => w.sys.startDirtyLog(as(v(BAD_FLAGS))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-dirty-flags", run: () => w.sys.stopDirtyLog(as(v(BAD_FLAGS))), expect: ["E_INVALID_ARGUMENT"] },
      { kind: "bad-space-name", run: () => w.sys.createAddressSpace(as(o.c), r), expect: ["E_INVALID_ARGUMENT"] },
      {
        kind: "bad-space-root",
        run: () => w.sys.createAddressSpace("x", as(v(BAD_BOOL))),
        expect: ["E_INVALID_ARGUMENT"],
      },
      { kind: "bad-region", run: () => w.sys.dirtyLogMask(as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
      {
        kind: "bad-region",
        run: () => new MemoryRegion(w.sys, { kind: "ram", name: "x", size: as(v(BAD_SIZE)) }),
        expect: ["E_INVALID_SIZE"],
      },
      {
        kind: "bad-region",
        run: () => new MemoryRegion(w.sys, as({ kind: "disk", name: "x", size: 0x10n })),
        expect: ["E_INVALID_KIND"],
      },
    ];
    if (alias !== undefined) {
      calls.push({
        kind: "bad-alias-offset",
        run: () => alias.setAliasOffset(as(v(BAD_U64))),
        expect: ["E_INVALID_ADDRESS"],
      });
    }
    if (space !== undefined) {
      const buf = new Uint8Array(4);
      calls.push(
        { kind: "bad-access", run: () => space.read(as(v(BAD_U64)), buf), expect: ["E_INVALID_ADDRESS"] },
        { kind: "bad-access", run: () => space.write(0n, as(v(BAD_BOOL))), expect: ["E_INVALID_ARGUMENT"] },
        { kind: "bad-access", run: () => space.readValue(0n, as(v([0, 9, 1.5, "4", 4n]))), expect: ["E_INVALID_SIZE"] },
        {
          kind: "bad-access",
          run: () => space.writeValue(0n, 4, as(v([1, "1", null]))),
          expect: ["E_INVALID_ARGUMENT"],
        },
      );
    }
    return [calls[o.c % calls.length]!];
  },
  pastEnd: (w, o) => {
    const big = w.regions.filter((r) => r.size > 1n && r.size < SIZE_2_64);
    const r = pick(big, o.a);
    if (r === undefined) return null;
    if (r.container !== null) return one("past-end", () => r.setAddress(SIZE_2_64 - 1n), ["E_SUBREGION_PAST_END"]);
    return one("past-end", () => region(w, o.b).addSubregion(SIZE_2_64 - 1n, r), ["E_SUBREGION_PAST_END"]);
  },
  aliasWindow: (w, o) => {
    // Only aliases whose window still fits: a target may have shrunk under its aliases since.
    const a = pick(
      aliases(w).filter((x) => x.aliasOffset + x.size <= x.alias!.size),
      o.a,
    );
    if (a === undefined) return null;
    const past = a.alias!.size - a.size + 1n + o.n;
    if (o.flag) return one("alias-window", () => a.setAliasOffset(past), ["E_ALIAS_WINDOW", "E_INVALID_ADDRESS"]);
    return one("alias-window", () => a.setSize(a.alias!.size - a.aliasOffset + 1n + o.n), [
      "E_ALIAS_WINDOW",
      "E_INVALID_SIZE",
      "E_SUBREGION_PAST_END",
    ]);
  },
  coalescedRange: (w, o) => {
    const r = region(w, o.a);
    const v = (list: readonly unknown[]) => list[o.b % list.length];
    const calls: Call[] = [
      {
        kind: "coalesced-range",
        run: () => r.addCoalescing(r.size, 1n + o.n),
        expect: ["E_COALESCED_RANGE", "E_INVALID_ADDRESS"],
      },
      { kind: "coalesced-range", run: () => r.addCoalescing(o.n, 0n), expect: ["E_COALESCED_RANGE"] },
      { kind: "bad-offset", run: () => r.addCoalescing(as(v(BAD_U64)), 1n), expect: ["E_INVALID_ADDRESS"] },
      { kind: "bad-size", run: () => r.addCoalescing(0n, as(v(BAD_SIZE))), expect: ["E_INVALID_SIZE"] },
    ];
    return [calls[o.c % calls.length]!];
  },
  notAlias: (w, o) => {
    const r = pick(
      w.regions.filter((x) => x.alias === null),
      o.a,
    )!;
    return one("not-an-alias", () => r.setAliasOffset(0n), ["E_NOT_AN_ALIAS"]);
  },
  notRomDevice: (w, o) => {
    const r = pick(
      w.regions.filter((x) => !x.romDevice),
      o.a,
    )!;
    return one("not-a-rom-device", () => r.setRomdMode(!o.flag), ["E_NOT_A_ROM_DEVICE"]);
  },
  logUnderflow: (w, o) => {
    const r = pick(
      w.regions.filter((x) => (w.vga.get(x) ?? 0) === 0),
      o.a,
    );
    return r === undefined ? null : one("log-underflow", () => r.setLog(false), ["E_LOG_UNDERFLOW"]);
  },
  noSuchFd: (w, o) => {
    // QEMU's equality lets a size-0 record match any at its start: probe an offset nothing uses.
    const stranger = { id: -1, signal() {} };
    const at = 0x1000_0000n + o.n;
    return one("del-missing-eventfd", () => region(w, o.a).delEventfd(at, (o.c % 2) * 4, o.flag, 0n, stranger), [
      "E_NO_SUCH_IOEVENTFD",
    ]);
  },
  unbalancedCommit: (w) => [
    ...Array.from({ length: w.sys.depth }, () => ({ kind: "commit", run: () => w.sys.commit() })),
    { kind: "commit-without-begin", run: () => w.sys.commit(), expect: ["E_COMMIT_WITHOUT_BEGIN"] },
  ],
  registerTwice: (w, o) => {
    const l = pick(registered(w), o.a);
    const space = pick(live(w), o.b);
    if (l === undefined || space === undefined) return null;
    return one("register-twice", () => w.sys.registerListener(l, space), ["E_LISTENER_REGISTERED"]);
  },
  unregisterUnknown: (w, o) => {
    const l = pick(unregistered(w), o.a) ?? { name: "stranger" };
    return one("unregister-unknown", () => w.sys.unregisterListener(o.flag ? l : as(BAD_BOOL[o.b % BAD_BOOL.length])), [
      "E_LISTENER_NOT_REGISTERED",
    ]);
  },
  invalidListener: (w, o) => {
    const space = pick(live(w), o.b);
    if (space === undefined) return null;
    const l = BAD_LISTENERS[o.a % BAD_LISTENERS.length];
    return one("invalid-listener", () => w.sys.registerListener(as(l), space), ["E_INVALID_LISTENER"]);
  },
  unknownSpace: (w, o) => {
    const gone = pick(destroyed(w), o.a);
    const space: AddressSpace = gone ?? as({ name: "fake" });
    if (o.flag) return one("unknown-space", () => w.sys.destroyAddressSpace(space), ["E_UNKNOWN_ADDRESS_SPACE"]);
    return one("unknown-space", () => w.sys.registerListener(replica("x"), space), ["E_UNKNOWN_ADDRESS_SPACE"]);
  },
  destroyInUse: (w, o) => {
    const space = pick(
      live(w).filter((s) => w.sys.listenersOf(s).length > 0),
      o.a,
    );
    return space === undefined
      ? null
      : one("destroy-in-use", () => w.sys.destroyAddressSpace(space), ["E_ADDRESS_SPACE_HAS_LISTENERS"]);
  },
  destroyedAccess: (w, o) => {
    const gone = pick(destroyed(w), o.a);
    if (gone === undefined) return null;
    return one("destroyed-access", () => gone.write(0n, new Uint8Array(1)), ["E_ADDRESS_SPACE_DESTROYED"]);
  },
  dirtyNotStarted: (w, o) => {
    const off = 7 & ~w.sys.globalDirtyTracking;
    if (off === 0) return null;
    const flags = off & ((o.c % 7) + 1) || off;
    return one("dirty-log-not-started", () => w.sys.stopDirtyLog(flags), ["E_DIRTY_LOG_NOT_STARTED"]);
  },
  fakeCoalesced: (w, o) => {
    // The hook tells listeners about a range the region just gained or lost: not a way to invent one.
    const r = region(w, o.a);
    const range = pick(r.coalesced, o.b);
    const fake = { offset: 0n, size: 1n + o.n };
    if (range !== undefined && !o.flag) {
      return one("fake-coalesced", () => w.sys.coalescingChanged(r, range, false), ["E_INVALID_ARGUMENT"]);
    }
    return one("fake-coalesced", () => w.sys.coalescingChanged(o.flag ? w.other.region : r, fake, true), [
      o.flag ? "E_FOREIGN_REGION" : "E_INVALID_ARGUMENT",
    ]);
  },
  hostHook: (w, o) => {
    if (w.sys.depth > 0) {
      return one("host-hook-region", () => w.sys.topologyWillChange(o.flag ? w.other.region : as(o.c)), [
        o.flag ? "E_FOREIGN_REGION" : "E_INVALID_ARGUMENT",
      ]);
    }
    const hooks = [
      () => w.sys.topologyChanged(),
      () => w.sys.ioeventfdsChanged(),
      () => w.sys.topologyWillChange(region(w, o.a)),
    ];
    return one("host-hook-outside-transaction", hooks[o.c % hooks.length]!, ["E_NOT_IN_TRANSACTION"]);
  },
};

/** Misuse from inside a listener callback, through the meddler. */
const REENTRANT: Record<string, Plan> = {
  reentrant: (w, o) => {
    const m = w.meddler;
    const arm = {
      kind: "arm-meddler",
      run: () => {
        m.plan = { action: o.a % MEDDLER_ACTIONS, rethrow: o.flag };
        m.fired = null;
      },
    };
    const trigger = w.sys.listeners.includes(m)
      ? () => w.sys.syncDirtyLog()
      : () => w.sys.registerListener(m, pick(live(w), o.b)!);
    if (live(w).length === 0) return null;
    return [
      arm,
      { kind: "meddler-trigger", run: trigger, meddle: true, ...(o.flag ? { expect: ["E_LISTENER_FAILED"] } : {}) },
    ];
  },
};

const WEIGHTS: readonly [Record<string, Plan>, number][] = [
  [VALID, 12],
  [MISUSE, 7],
  [REENTRANT, 1],
];

/** Random intents: valid operations, misuse at the API, misuse from a callback, about 12 to 7 to 1. */
export const intentArb: fc.Arbitrary<Intent> = fc.record({
  t: fc.oneof(...WEIGHTS.map(([plans, weight]) => ({ arbitrary: fc.constantFrom(...Object.keys(plans)), weight }))),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  n: fc.bigInt({ min: 0n, max: 0x300n }),
  flag: fc.boolean(),
});

/** The calls an intent makes on this world now (none when it does not apply, e.g. no alias to move). */
export function planCalls(w: World, o: Intent): Call[] {
  const plan = VALID[o.t] ?? MISUSE[o.t] ?? REENTRANT[o.t];
  return plan?.(w, o) ?? [];
}

/** Whether an intent is misuse (for the per-kind figures). */
export const isMisuse = (t: string): boolean => t in MISUSE || t in REENTRANT;
