import type { MemoryListener } from "@memtopo/listener-bus";
import { MemoryRegion } from "@memtopo/region-tree";
import { live, type Meddler, type World } from "./misuse-world.js";
import { systemSnapshot } from "./system-snapshot.js";
import { pick } from "./valid-ops.js";

/**
 * What a listener may try from inside a callback. Each one would change the system if it
 * ran (a flip, a move, a new transaction), so each must be refused: the system is in the
 * middle of telling its listeners about one state and must not start on another.
 */
const ACTIONS: readonly [string, (w: World, i: number) => void][] = [
  ["begin", (w) => w.sys.begin()],
  ["commit", (w) => w.sys.commit()],
  ["create-space", (w, i) => w.sys.createAddressSpace("late", w.regions[i % w.regions.length]!)],
  ["destroy-space", (w, i) => w.sys.destroyAddressSpace(pick(live(w), i)!)],
  ["register", (w, i) => w.sys.registerListener({ name: "late" }, pick(live(w), i)!)],
  ["unregister-self", (w) => w.sys.unregisterListener(w.meddler)],
  ["unregister-other", (w) => w.sys.unregisterListener(w.logger as MemoryListener)],
  ["enable", (w, i) => flip(w, i, (r) => r.setEnabled(!r.enabled))],
  ["readonly", (w, i) => flip(w, i, (r) => r.setReadonly(!r.readonly))],
  ["nonvolatile", (w, i) => flip(w, i, (r) => r.setNonvolatile(!r.nonvolatile))],
  ["size", (w, i) => flip(w, i, (r) => r.setSize(r.size === 0n ? 0x10n : r.size / 2n))],
  ["del-subregion", (w, i) => withChild(w, i, (r, c) => c.delSubregion(r))],
  ["move-subregion", (w, i) => withChild(w, i, (r) => r.setAddress(r.addr + 0x100n))],
  ["add-subregion", (w, i) => addFresh(w, i)],
  ["add-eventfd", (w, i) => flip(w, i, (r) => r.addEventfd(0n, 0, false, 0n, w.notifiers[0]!))],
  ["del-eventfd", (w, i) => delFirstEventfd(w, i)],
  ["dirty-start", (w) => w.sys.startDirtyLog(w.sys.globalDirtyTracking === 7 ? 1 : 7 & ~w.sys.globalDirtyTracking)],
  ["dirty-stop", (w) => w.sys.stopDirtyLog(w.sys.globalDirtyTracking || 1)],
  ["dirty-sync", (w) => w.sys.syncDirtyLog()],
  ["vm-running", (w) => w.sys.setVmRunning(!w.sys.vmRunning)],
  ["topology-changed", (w) => w.sys.topologyChanged()],
];

export const MEDDLER_ACTIONS = ACTIONS.length;

function flip(w: World, i: number, change: (r: MemoryRegion) => void): void {
  change(w.regions[i % w.regions.length]!);
}

function withChild(w: World, i: number, change: (r: MemoryRegion, container: MemoryRegion) => void): void {
  const mapped = w.regions.filter((r) => r.container !== null);
  const r = pick(mapped, i);
  if (r === undefined) w.sys.begin();
  else change(r, r.container!);
}

/** A new region (not yet part of anything the snapshot sees) added under an existing one. */
function addFresh(w: World, i: number): void {
  const fresh = new MemoryRegion(w.sys, { kind: "ram", name: "late", size: 0x10n });
  w.regions[i % w.regions.length]!.addSubregion(0n, fresh);
}

function delFirstEventfd(w: World, i: number): void {
  const withFds = w.regions.filter((r) => r.ioeventfds.length > 0);
  const r = pick(withFds, i) ?? w.regions[0]!;
  const f = r.ioeventfds[0];
  if (f === undefined) r.delEventfd(0n, 0, false, 0n, w.notifiers[0]!);
  else r.delEventfd(f.start, Number(f.size), f.matchData, f.data, f.notifier);
}

/**
 * The meddler: every callback (topology, ioeventfd, dirty log, begin/commit) goes to one
 * hook that, when armed, tries its planned action once, snapshots the whole system around
 * the attempt, and then returns normally or lets the error out, as planned.
 */
export function meddler(world: () => World, priority: number): Meddler {
  const hook = (): void => {
    const plan = self.plan;
    if (plan === null) return;
    self.plan = null;
    const w = world();
    const [action, run] = ACTIONS[plan.action % ACTIONS.length]!;
    const before = systemSnapshot(w);
    let error: unknown = null;
    try {
      run(w, plan.action);
    } catch (e) {
      error = e;
    }
    self.fired = { action, error, before, after: systemSnapshot(w) };
    if (plan.rethrow && error !== null) throw error;
  };
  const self: Meddler = {
    name: "meddler",
    priority,
    plan: null,
    fired: null,
    begin: hook,
    commit: hook,
    regionAdd: hook,
    regionDel: hook,
    regionNop: hook,
    logStart: hook,
    logStop: hook,
    logSyncGlobal: hook,
    logGlobalStart: hook,
    logGlobalStop: hook,
    eventfdAdd: hook,
    eventfdDel: hook,
  };
  return self;
}
