import type { FlatView } from "@memtopo/flatview";
import type { ListenerCalls, MemoryListener } from "@memtopo/listener-bus";
import { type IoeventfdRecord, ioeventfdBefore } from "@memtopo/region-tree";
import { sectionFromIoeventfd } from "./section.js";

/** The order the diff merges by; QEMU's `memory_region_ioeventfd_before` by default. */
export type IoeventfdOrder = (a: IoeventfdRecord, b: IoeventfdRecord) => boolean;

/**
 * QEMU's `address_space_add_del_ioeventfds`: merge-walk the old and new lists; an old
 * record before the new one is gone (`eventfd_del`, Forward), a new record before the old
 * one is new (`eventfd_add`, Reverse), and records neither before the other are kept.
 * Sections carry `fv`, the space's view after its topology update.
 */
export function diffIoeventfds(
  calls: ListenerCalls,
  listeners: readonly MemoryListener[],
  old: readonly IoeventfdRecord[],
  next: readonly IoeventfdRecord[],
  fv: FlatView | null,
  before: IoeventfdOrder = ioeventfdBefore,
): void {
  let i = 0;
  let j = 0;
  while (i < old.length || j < next.length) {
    const o = old[i];
    const n = next[j];
    if (o !== undefined && (n === undefined || before(o, n))) {
      calls.forward(listeners, "eventfdDel", sectionFromIoeventfd(o, fv), o.matchData, o.data, o.notifier);
      i++;
    } else if (n !== undefined && (o === undefined || before(n, o))) {
      calls.reverse(listeners, "eventfdAdd", sectionFromIoeventfd(n, fv), n.matchData, n.data, n.notifier);
      j++;
    } else {
      i++;
      j++;
    }
  }
}
