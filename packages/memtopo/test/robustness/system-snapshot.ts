import type { MemoryListener } from "@memtopo/listener-bus";
import type { IoeventfdRecord, MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "../../src/index.js";

/** What a snapshot covers besides the system itself: its regions and what the test's listeners hold. */
export interface SnapshotScope {
  readonly sys: MemorySystem;
  /** Every region the test made, parentless ones included (the printers only reach mapped ones). */
  readonly regions: readonly MemoryRegion[];
  /** The listeners' own state (replicas, call logs), as JSON-able values. */
  readonly listenerState: () => unknown;
}

const fdText = (f: IoeventfdRecord): string =>
  `${f.start.toString(16)}/${f.size}${f.matchData ? `=${f.data.toString(16)}` : ""} e${f.notifier.id}`;

const label = (l: MemoryListener): string => l.name ?? "(unnamed)";

/**
 * Everything a throwing call must leave as it was, as one string: each space's view (range by
 * range, with every flag), ioeventfd list and listeners, the global listener order, the
 * transaction depth and pending flags, dirty tracking, every region's fields (parentless and
 * unmapped ones too: kind, name, owner and alias target beside everything a mutator changes, so
 * the `info mtree` texts, which print only these, are covered), and the state the test's
 * listeners rebuilt from what they were told.
 */
export function systemSnapshot(scope: SnapshotScope): string {
  const { sys } = scope;
  const state = {
    spaces: sys.addressSpaces.map((as) => ({
      name: as.name,
      root: as.root?.id ?? null,
      destroyed: as.destroyed,
      viewRoot: as.currentMap.root?.id ?? null,
      ranges: as.currentMap.ranges.map(
        (r) =>
          `${r.start.toString(16)}+${r.size.toString(16)} #${r.mr.id}:${r.mr.name}@${r.offsetInRegion.toString(16)}` +
          ` ro=${r.readonly} romd=${r.romdMode} nv=${r.nonvolatile} log=${r.dirtyLogMask}`,
      ),
      fds: as.ioeventfds.map(fdText),
      listeners: sys.listenersOf(as).map(label),
    })),
    listeners: sys.listeners.map(label),
    transaction: [sys.depth, sys.topologyPending, sys.ioeventfdPending],
    dirty: [sys.globalDirtyTracking, sys.vmRunning],
    regions: scope.regions.map((r) =>
      [
        r.id,
        r.kind,
        JSON.stringify(r.name),
        JSON.stringify(r.owner),
        r.alias?.id ?? "-",
        r.container?.id ?? "-",
        r.addr.toString(16),
        r.size.toString(16),
        r.priority,
        `${+r.enabled}${+r.readonly}${+r.nonvolatile}${+r.romdMode}`,
        r.aliasOffset.toString(16),
        r.dirtyLogMask,
        r.mappedViaAlias,
        [...r.aliasedBy].map((a) => a.id).join(","),
        r.subregions.map((s) => s.id).join(","),
        r.ioeventfds.map(fdText).join(","),
        r.coalesced.map((c) => `${c.offset.toString(16)}+${c.size.toString(16)}`).join(","),
        r.flushCoalescedMmio,
      ].join(" "),
    ),
    listenerState: scope.listenerState(),
  };
  return JSON.stringify(state, null, 1);
}
