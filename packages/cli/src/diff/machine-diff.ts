import type { FlatRange, FlatView } from "@memtopo/flatview";
import { diffIoeventfds } from "@memtopo/ioeventfd";
import {
  ListenerCalls,
  type MemoryListener,
  type MemoryRegionSection,
  updateTopologyPass,
} from "@memtopo/listener-bus";
import { hex, type IoeventfdRecord, type MemoryRegion } from "@memtopo/region-tree";
import { MemorySystemError } from "memtopo";

/**
 * Which address space an event is about. QEMU lets several spaces share a name (one "memory" per CPU, one
 * per e1000 NIC), so a name alone is not enough: `asOrdinal` is the space's rank among the spaces of that
 * name, in creation order (0 for the first).
 */
export interface DiffSpace {
  readonly name: string;
  readonly ordinal: number;
}

/** One listener callback as JSON: what `memtopo diff` prints, one object a line. */
export type DiffEvent =
  | { readonly event: "begin" | "commit" }
  | {
      readonly event: "region_add" | "region_del" | "region_nop";
      readonly as: string;
      readonly asOrdinal: number;
      readonly start: string;
      readonly size: string;
      readonly region: string;
      readonly offset: string;
      readonly readonly: boolean;
    }
  | {
      readonly event: "log_start" | "log_stop";
      readonly as: string;
      readonly asOrdinal: number;
      readonly start: string;
      readonly size: string;
      readonly region: string;
      readonly offset: string;
      readonly readonly: boolean;
      readonly oldMask: number;
      readonly newMask: number;
    }
  | {
      readonly event: "eventfd_add" | "eventfd_del";
      readonly as: string;
      readonly asOrdinal: number;
      readonly start: string;
      readonly size: string;
      readonly matchData: boolean;
      readonly data: string;
    };

/** What a machine must offer to be diffed: its address spaces in creation order (a MemorySystem, a loaded machine). */
export interface DiffableMachine {
  readonly addressSpaces: readonly {
    readonly name: string;
    readonly currentMap: FlatView;
    readonly ioeventfds?: readonly IoeventfdRecord[];
  }[];
}

/**
 * The listener events that take machine `a` to machine `b`, in QEMU's order, as one
 * topology commit would deliver them to one listener per address space: `begin`; per space
 * (in `b`'s creation order, then spaces only `a` has) the deletion pass, the addition pass
 * and the ioeventfd diff; `commit`. Spaces are matched by name and, among spaces of one name, by creation
 * order (the n-th "memory" of `a` is compared with the n-th of `b`). Regions of two machines are
 * different objects, so a region is identified by its path of names up the container chain
 * and its kind (the n-th such region, in view order, when several share that path); range
 * equality is otherwise QEMU's `flatrange_equal`, and ioeventfds are compared by
 * address, size and data (notifiers of two machines are never the same).
 */
export function diffMachines(a: DiffableMachine, b: DiffableMachine): DiffEvent[] {
  checkMachine(a, "a");
  checkMachine(b, "b");
  const keys = new Map<MemoryRegion, string>();
  assignKeys(a, keys);
  assignKeys(b, keys);
  const equal = (x: FlatRange, y: FlatRange): boolean =>
    keys.get(x.mr) === keys.get(y.mr) &&
    x.start === y.start &&
    x.size === y.size &&
    x.offsetInRegion === y.offsetInRegion &&
    x.romdMode === y.romdMode &&
    x.readonly === y.readonly &&
    x.nonvolatile === y.nonvolatile;

  const events: DiffEvent[] = [{ event: "begin" }];
  const key = (space: DiffSpace): string => `${space.ordinal}:${space.name}`;
  const oldSpaces = diffSpaces(a.addressSpaces);
  const newSpaces = diffSpaces(b.addressSpaces);
  const oldByKey = new Map(oldSpaces.map((s) => [key(s.space), s.as]));
  const newByKey = new Map(newSpaces.map((s) => [key(s.space), s.as]));
  const order = [...newSpaces, ...oldSpaces.filter((s) => !newByKey.has(key(s.space)))];
  for (const { space } of order) {
    const old = oldByKey.get(key(space));
    const next = newByKey.get(key(space));
    const calls = new ListenerCalls();
    const listeners = [diffEventListener(space, (e) => events.push(e))];
    const oldRanges = old?.currentMap.ranges ?? [];
    const newRanges = next?.currentMap.ranges ?? [];
    const fv = old?.currentMap ?? null;
    updateTopologyPass(calls, listeners, oldRanges, newRanges, fv, false, equal);
    updateTopologyPass(calls, listeners, oldRanges, newRanges, fv, true, equal);
    diffIoeventfds(
      calls,
      listeners,
      old?.ioeventfds ?? [],
      next?.ioeventfds ?? [],
      next?.currentMap ?? null,
      recordBefore,
    );
    calls.throwIfFailed("diff");
  }
  events.push({ event: "commit" });
  return events;
}

/**
 * Each space with its {@link DiffSpace} (name and rank among the spaces of that name, in creation order), the
 * identity `diffMachines` matches spaces by and every {@link DiffEvent} carries.
 */
export function diffSpaces<S extends { readonly name: string }>(
  spaces: readonly S[],
): { readonly as: S; readonly space: DiffSpace }[] {
  const seen = new Map<string, number>();
  return spaces.map((as) => {
    const ordinal = seen.get(as.name) ?? 0;
    seen.set(as.name, ordinal + 1);
    return { as, space: { name: as.name, ordinal } };
  });
}

/** QEMU's ioeventfd order without notifier identity. */
function recordBefore(x: IoeventfdRecord, y: IoeventfdRecord): boolean {
  if (x.start !== y.start) return x.start < y.start;
  if (x.size !== y.size) return x.size < y.size;
  if (x.matchData !== y.matchData) return !x.matchData;
  return x.matchData && x.data < y.data;
}

function assignKeys(machine: DiffableMachine, keys: Map<MemoryRegion, string>): void {
  const seen = new Map<string, number>();
  for (const as of machine.addressSpaces) {
    for (const range of as.currentMap.ranges) {
      if (keys.has(range.mr)) continue;
      const path = regionPath(range.mr);
      const n = seen.get(path) ?? 0;
      seen.set(path, n + 1);
      keys.set(range.mr, `${path}#${n}`);
    }
  }
}

function regionPath(mr: MemoryRegion): string {
  const parts: string[] = [];
  for (let r: MemoryRegion | null = mr; r !== null; r = r.container) parts.push(r.name ?? "(null)");
  return `${parts.reverse().join("/")}:${mr.kind}`;
}

/**
 * A listener that turns every region, dirty-log and ioeventfd call on `space` into a {@link DiffEvent}, as
 * `diffMachines` reports them (`begin` and `commit` are the caller's: add them to the returned object). Take
 * `space` from {@link diffSpaces} so that events of same-named spaces stay apart.
 */
export function diffEventListener(
  space: DiffSpace,
  push: (event: DiffEvent) => void,
  name = `diff:${space.name}#${space.ordinal}`,
): MemoryListener {
  const as = space.name;
  const asOrdinal = space.ordinal;
  const range = (s: MemoryRegionSection) => ({
    as,
    asOrdinal,
    start: hex(s.offsetWithinAddressSpace),
    size: hex(s.size),
    region: s.mr?.name ?? "(null)",
    offset: hex(s.offsetWithinRegion),
    readonly: s.readonly,
  });
  const fd = (s: MemoryRegionSection, matchData: boolean, data: bigint) => ({
    as,
    asOrdinal,
    start: hex(s.offsetWithinAddressSpace),
    size: hex(s.size),
    matchData,
    data: hex(data),
  });
  return {
    name,
    regionAdd: (s) => push({ event: "region_add", ...range(s) }),
    regionDel: (s) => push({ event: "region_del", ...range(s) }),
    regionNop: (s) => push({ event: "region_nop", ...range(s) }),
    logStart: (s, oldMask, newMask) => push({ event: "log_start", ...range(s), oldMask, newMask }),
    logStop: (s, oldMask, newMask) => push({ event: "log_stop", ...range(s), oldMask, newMask }),
    eventfdAdd: (s, m, d) => push({ event: "eventfd_add", ...fd(s, m, d) }),
    eventfdDel: (s, m, d) => push({ event: "eventfd_del", ...fd(s, m, d) }),
  };
}

function checkMachine(m: DiffableMachine, which: string): void {
  if (m === null || typeof m !== "object" || !Array.isArray(m.addressSpaces)) {
    throw new MemorySystemError("E_INVALID_ARGUMENT", `machine ${which} must have an addressSpaces array`);
  }
}
