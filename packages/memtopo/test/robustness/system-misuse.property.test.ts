import { getFlatViewRoot, renderFlatView } from "@memtopo/flatview";
import { ListenerCallbackError, ListenerRegistryError } from "@memtopo/listener-bus";
import { MemtopoError, RegionTreeError } from "@memtopo/region-tree";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MemorySystemError } from "../../src/index.js";
import { meddler } from "./misuse-meddler.js";
import { intentArb, isMisuse, planCalls } from "./misuse-ops.js";
import { buildWorld, live, machineSeedArb, type World } from "./misuse-world.js";
import { expectedReplicaState } from "./replica-listener.js";
import { systemSnapshot } from "./system-snapshot.js";
import type { Call } from "./valid-ops.js";

// Random API misuse against a whole MemorySystem. Every refused call throws a
// MemtopoError subclass with a stable code and leaves a full snapshot (both `info mtree`
// texts, every view range by range, ioeventfd lists, listener order, transaction depth and
// pending flags, dirty tracking, every region's fields, the replicas and the call log) as
// it was; every call, refused or not, leaves each replica listener equal to its space's
// view and ioeventfds (listeners saw a consistent stream). MEMTOPO_FUZZ_RUNS scales it up.

const RUNS = Number(process.env.MEMTOPO_FUZZ_RUNS ?? 600);

/** The codes each error class may carry: a code outside its class's list is a new, unreviewed code. */
const CODES = new Map<abstract new (...args: never) => MemtopoError, readonly string[]>([
  [
    RegionTreeError,
    [
      "E_INVALID_ARGUMENT",
      "E_INVALID_ADDRESS",
      "E_INVALID_SIZE",
      "E_INVALID_PRIORITY",
      "E_INVALID_KIND",
      "E_FOREIGN_REGION",
      "E_REGION_HAS_CONTAINER",
      "E_SUBREGION_PAST_END",
      "E_CYCLE",
      "E_NOT_A_SUBREGION",
      "E_NOT_AN_ALIAS",
      "E_ALIAS_WINDOW",
      "E_NOT_A_ROM_DEVICE",
      "E_LOG_UNDERFLOW",
      "E_NO_SUCH_IOEVENTFD",
      "E_COALESCED_RANGE",
    ],
  ],
  [
    MemorySystemError,
    [
      "E_INVALID_ARGUMENT",
      "E_INVALID_ADDRESS",
      "E_INVALID_SIZE",
      "E_FOREIGN_REGION",
      "E_COMMIT_WITHOUT_BEGIN",
      "E_NOT_IN_TRANSACTION",
      "E_REENTRANT",
      "E_UNKNOWN_ADDRESS_SPACE",
      "E_ADDRESS_SPACE_HAS_LISTENERS",
      "E_ADDRESS_SPACE_DESTROYED",
      "E_LISTENER_NOT_REGISTERED",
      "E_DIRTY_LOG_NOT_STARTED",
    ],
  ],
  [ListenerRegistryError, ["E_INVALID_LISTENER", "E_LISTENER_REGISTERED"]],
  [ListenerCallbackError, ["E_LISTENER_FAILED"]],
]);

const figures = {
  runs: 0,
  calls: 0,
  refused: 0,
  /** Refusals by code, of calls made as misuse (inside callbacks included). */
  misuseByCode: new Map<string, number>(),
  /** Refusals by code of valid operations that failed by chance (a cycle, a window). */
  incidentalByCode: new Map<string, number>(),
  /** What the meddler tried inside a callback, by action and code. */
  insideCallbacks: new Map<string, number>(),
  ms: 0,
};

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** A thrown value must be a MemtopoError subclass with a code its class is known to use, and a message. */
function typedCode(error: unknown): string {
  if (!(error instanceof MemtopoError))
    throw new Error(`untyped exception escaped: ${String(error)}`, { cause: error });
  const codes = CODES.get(error.constructor as typeof MemtopoError);
  expect(codes, `error class ${error.constructor.name}`).toBeDefined();
  expect(codes).toContain(error.code);
  expect(error.message.length).toBeGreaterThan(0);
  return error.code;
}

/** Each replica holds exactly its space's view and ioeventfds (an unregistered one: nothing). */
function expectConsistent(w: World): void {
  for (const r of w.replicas) {
    const space = live(w).find((s) => w.sys.listenersOf(s).includes(r));
    expect(r.state(), r.name).toEqual(expectedReplicaState(space));
  }
}

/** After a trigger: the meddler's attempt was made, refused typed, and changed nothing. */
function checkMeddler(w: World): void {
  const fired = w.meddler.fired;
  w.meddler.plan = null;
  w.meddler.fired = null;
  expect(fired, "the trigger reached the meddler").not.toBeNull();
  expect(fired!.error, `${fired!.action} from inside a callback was accepted`).not.toBeNull();
  const code = typedCode(fired!.error);
  bump(figures.insideCallbacks, `${fired!.action} ${code}`);
  bump(figures.misuseByCode, code);
  expect(fired!.after).toBe(fired!.before);
}

function checkedCall(w: World, call: Call, misuse: boolean): void {
  const before = systemSnapshot(w);
  let error: unknown = null;
  try {
    call.run();
  } catch (e) {
    error = e ?? new Error("undefined was thrown");
  }
  figures.calls++;
  if (call.meddle === true) checkMeddler(w);
  if (error === null) {
    expect(call.expect, `${call.kind} was accepted`).toBeUndefined();
  } else {
    figures.refused++;
    const code = typedCode(error);
    bump(misuse && call.expect !== undefined ? figures.misuseByCode : figures.incidentalByCode, code);
    if (call.expect !== undefined) expect(call.expect, call.kind).toContain(code);
    if (code === "E_LISTENER_FAILED") {
      // The meddler let its refused attempt out: delivery still ran to its end (listeners.test.ts).
      expect(call.meddle).toBe(true);
      const failures = (error as ListenerCallbackError).failures;
      expect(failures.map((f) => [f.listener, typedCode(f.error)])).toEqual([[w.meddler, expect.any(String)]]);
    } else {
      expect(systemSnapshot(w), `${call.kind} threw ${code} but changed the system`).toBe(before);
    }
  }
  expectConsistent(w);
}

/** After a forced topology commit every view equals a full render of its root (the incremental table's oracle). */
function expectViewsRenderedInFull(w: World): void {
  w.sys.begin();
  w.sys.topologyChanged();
  w.sys.commit();
  const text = (ranges: ReturnType<typeof renderFlatView>["ranges"]) =>
    ranges.map((r) => `${r.start}+${r.size} ${r.mr.id}@${r.offsetInRegion} ${r.readonly} ${r.dirtyLogMask}`);
  for (const as of live(w)) {
    const full = renderFlatView(getFlatViewRoot(as.root), { dirtyLogMask: (mr) => w.sys.dirtyLogMask(mr) });
    expect(text(as.currentMap.ranges), as.name).toEqual(text(full.ranges));
  }
}

describe("API misuse against a whole MemorySystem", () => {
  afterAll(() => {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    console.log(
      JSON.stringify(
        {
          runs: figures.runs,
          calls: figures.calls,
          refused: figures.refused,
          seconds: Number((figures.ms / 1000).toFixed(1)),
          misuseByCode: sorted(figures.misuseByCode),
          incidentalByCode: sorted(figures.incidentalByCode),
          insideCallbacks: sorted(figures.insideCallbacks),
        },
        null,
        1,
      ),
    );
  });

  it(
    "random valid calls mixed with misuse: refusals are typed and change nothing; replicas always match",
    () => {
      const start = performance.now();
      fc.assert(
        fc.property(machineSeedArb, fc.array(intentArb, { minLength: 10, maxLength: 60 }), (seed, intents) => {
          figures.runs++;
          let world: World | undefined;
          world = buildWorld(
            seed,
            meddler(() => world!, seed.meddlerPriority),
          );
          expectConsistent(world);
          for (const o of intents) {
            for (const call of planCalls(world, o)) checkedCall(world, call, isMisuse(o.t));
          }
          while (world.sys.depth > 0) checkedCall(world, { kind: "commit", run: () => world.sys.commit() }, false);
          expectViewsRenderedInFull(world);
          expectConsistent(world);
        }),
        { numRuns: RUNS },
      );
      figures.ms = performance.now() - start;
      // The generator must keep producing every kind of misuse, or the test would quietly thin
      // out. The rarest code is hit about once in 60 runs, so this holds from 600 runs on.
      if (RUNS < 600) return;
      const hit = [...figures.misuseByCode.keys()];
      for (const codes of CODES.values())
        for (const code of codes) expect(hit, `no misuse ended in ${code}`).toContain(code);
    },
    Math.max(30_000, RUNS * 100),
  ); // a scaled-up run may take minutes on a busy machine
});
