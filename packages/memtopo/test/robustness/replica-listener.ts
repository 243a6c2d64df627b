import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";
import type { AddressSpace } from "../../src/index.js";

/** A range as a listener can know it from a section, and as a FlatRange gives it. */
function rangeText(start: bigint, size: bigint, id: number | undefined, offset: bigint, ro: boolean, nv: boolean) {
  return `${start.toString(16)}+${size.toString(16)} #${id}@${offset.toString(16)}${ro ? " ro" : ""}${nv ? " nv" : ""}`;
}

const sectionText = (s: MemoryRegionSection): string =>
  rangeText(s.offsetWithinAddressSpace, s.size, s.mr?.id, s.offsetWithinRegion, s.readonly, s.nonvolatile);

const fdText = (start: bigint, size: bigint, matchData: boolean, data: bigint, e: EventNotifier): string =>
  `${start.toString(16)}/${size.toString(16)}${matchData ? `=${data.toString(16)}` : ""} e${e.id}`;

export interface Replica extends MemoryListener {
  readonly name: string;
  /** Held ranges by start, as rebuilt from region_add/region_del. */
  readonly ranges: Map<bigint, { end: bigint; text: string }>;
  /** Held ioeventfds (a multiset: equal records may repeat) as rebuilt from eventfd_add/eventfd_del. */
  readonly fds: string[];
  /** Events that did not fit what the replica held: the stream was inconsistent. */
  readonly errors: string[];
  /** Open `begin`s without their `commit`. */
  open: number;
  state(): unknown;
}

/**
 * A listener that knows only its events: it rebuilds its space's ranges from `region_add` /
 * `region_del` (each add must land on free addresses, each del and nop must name a held
 * range, `log_start`/`log_stop` must name one too) and the ioeventfd multiset from
 * `eventfd_add`/`eventfd_del`, and notes every event that does not fit.
 */
export function replica(name: string, priority = 0): Replica {
  const ranges = new Map<bigint, { end: bigint; text: string }>();
  const fds: string[] = [];
  const errors: string[] = [];
  const held = (s: MemoryRegionSection, what: string): boolean => {
    const ok = ranges.get(s.offsetWithinAddressSpace)?.text === sectionText(s);
    if (!ok) errors.push(`${what} of a range not held: ${sectionText(s)}`);
    return ok;
  };
  const self: Replica = {
    name,
    priority,
    ranges,
    fds,
    errors,
    open: 0,
    begin() {
      if (self.open++ !== 0) errors.push("begin inside begin");
    },
    commit() {
      if (self.open-- !== 1) errors.push("commit without begin");
    },
    regionAdd(s) {
      const start = s.offsetWithinAddressSpace;
      const end = start + s.size;
      for (const [at, r] of ranges) {
        if (at < end && start < r.end) errors.push(`add ${sectionText(s)} over held ${r.text}`);
      }
      ranges.set(start, { end, text: sectionText(s) });
    },
    regionDel(s) {
      if (held(s, "del")) ranges.delete(s.offsetWithinAddressSpace);
    },
    regionNop(s) {
      held(s, "nop");
    },
    logStart(s) {
      held(s, "log_start");
    },
    logStop(s) {
      held(s, "log_stop");
    },
    eventfdAdd(s, m, d, e) {
      fds.push(fdText(s.offsetWithinAddressSpace, s.size, m, d, e));
    },
    eventfdDel(s, m, d, e) {
      const at = fds.indexOf(fdText(s.offsetWithinAddressSpace, s.size, m, d, e));
      if (at < 0)
        errors.push(`eventfd_del of a record not held: ${fdText(s.offsetWithinAddressSpace, s.size, m, d, e)}`);
      else fds.splice(at, 1);
    },
    state: () => ({
      ranges: [...ranges.values()].map((r) => r.text).sort(),
      fds: [...fds].sort(),
      errors,
      open: self.open,
    }),
  };
  return self;
}

/**
 * What a replica on `as` must hold (or, with `as` undefined, an unregistered one: nothing):
 * the space's current view and its ioeventfd list, no inconsistency, no open `begin`.
 */
export function expectedReplicaState(as: AddressSpace | undefined): unknown {
  const fds = (as?.ioeventfds ?? []).map((f) => fdText(f.start, f.size, f.matchData, f.data, f.notifier));
  return {
    ranges: (as?.currentMap.ranges ?? [])
      .map((r) => rangeText(r.start, r.size, r.mr.id, r.offsetInRegion, r.readonly, r.nonvolatile))
      .sort(),
    fds: [...fds].sort(),
    errors: [],
    open: 0,
  };
}
