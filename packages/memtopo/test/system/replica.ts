import type { FlatRange } from "@memtopo/flatview";
import { type MemoryListener, type MemoryRegionSection, sectionFromFlatRange } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";

/** A range as listeners hear it: address, size, region, offset and flags. */
export const rangeKey = (s: MemoryRegionSection): string =>
  `${s.offsetWithinAddressSpace}+${s.size} #${s.mr!.id}@${s.offsetWithinRegion}${s.readonly ? " ro" : ""}${s.nonvolatile ? " nv" : ""}`;

/** The key the events of `range` carry. */
export const flatRangeKey = (range: FlatRange): string => rangeKey(sectionFromFlatRange(range, null));

/** An ioeventfd as listeners hear it. */
export const fdKey = (start: bigint, size: bigint, m: boolean, d: bigint, e: EventNotifier): string =>
  `${start}/${size}${m ? `=${d}` : ""} e${e.id}`;

export type Replica = MemoryListener & { ranges: Set<string>; fds: Map<string, number>; errors: string[] };

/**
 * A listener that knows nothing but the events: it keeps the set of ranges and the multiset
 * of ioeventfds they describe, and records any event that does not fit what it holds. With
 * `regionNop` false it has no `region_nop`, so the system may tell it only what changed.
 */
export function replica(options: { readonly regionNop: boolean }): Replica {
  const ranges = new Set<string>();
  const fds = new Map<string, number>();
  const errors: string[] = [];
  const listener: Replica = {
    ranges,
    fds,
    errors,
    regionAdd(s) {
      const k = rangeKey(s);
      if (ranges.has(k)) errors.push(`add of a held range ${k}`);
      ranges.add(k);
    },
    regionDel(s) {
      if (!ranges.delete(rangeKey(s))) errors.push(`del of an unknown range ${rangeKey(s)}`);
    },
    eventfdAdd(s, m, d, e) {
      const k = fdKey(s.offsetWithinAddressSpace, s.size, m, d, e);
      fds.set(k, (fds.get(k) ?? 0) + 1);
    },
    eventfdDel(s, m, d, e) {
      const k = fdKey(s.offsetWithinAddressSpace, s.size, m, d, e);
      const n = fds.get(k) ?? 0;
      if (n === 0) errors.push(`eventfd_del of an unknown record ${k}`);
      else if (n === 1) fds.delete(k);
      else fds.set(k, n - 1);
    },
  };
  if (options.regionNop) {
    listener.regionNop = (s) => {
      if (!ranges.has(rangeKey(s))) errors.push(`nop of an unknown range ${rangeKey(s)}`);
    };
  }
  return listener;
}
