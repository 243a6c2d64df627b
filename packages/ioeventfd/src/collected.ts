import type { AddrWindow, FlatRange, FlatView, RangeSplice, ViewEdit } from "@memtopo/flatview";
import type { IoeventfdRecord } from "@memtopo/region-tree";
import { collectRange } from "./collect.js";

/**
 * An address space's ioeventfd list as QEMU's `address_space_update_ioeventfds` collects it
 * from `view`, with the range of the view each record came from (`owners[i]` for `records[i]`),
 * so that a view re-rendered in windows is collected again only where its ranges changed.
 */
export interface CollectedIoeventfds {
  readonly view: FlatView;
  readonly records: readonly IoeventfdRecord[];
  readonly owners: readonly FlatRange[];
}

/** The list collected from every range of `view` (the oracle of {@link recollectIoeventfds}). */
export function collectIoeventfdList(view: FlatView): CollectedIoeventfds {
  const records: IoeventfdRecord[] = [];
  const owners: FlatRange[] = [];
  for (const range of view.ranges) collectRange(range, records, owners);
  return { view, records, owners };
}

/**
 * The list of `view`, given the list of an earlier view and, when `view` was re-rendered in
 * windows from that one, how (`edit`): records of the ranges outside the edit's splices are
 * kept as they are (the same ranges give the same records), and only the splices' ranges are
 * collected again. Without a usable edit the whole view is collected. When nothing was
 * collected differently, the result keeps `prev.records` itself, so a caller can skip the diff.
 */
export function recollectIoeventfds(
  prev: CollectedIoeventfds,
  view: FlatView,
  edit: ViewEdit | undefined,
): CollectedIoeventfds {
  if (prev.view === view) return prev;
  if (edit === undefined || edit.from !== prev.view) return collectIoeventfdList(view);
  return resplice(prev, view, edit.splices);
}

/**
 * The list of the same view after regions' own ioeventfds changed (an ioeventfd-only commit,
 * where no view changes), given where those regions can show in it (`windows`, sorted and
 * disjoint, as the view table finds them): only the ranges that meet a window are collected
 * again, every other record is kept. When nothing was collected there before or now, the
 * result keeps `prev.records` itself.
 */
export function recollectIoeventfdsIn(prev: CollectedIoeventfds, windows: readonly AddrWindow[]): CollectedIoeventfds {
  const view = prev.view;
  // Searched in the view's chunks: a view held in chunks is not made into one array for this.
  const chunks = view.chunks;
  const splices: RangeSplice[] = [];
  for (const w of windows) {
    const oldStart = chunks.firstEndingAfter(w.start);
    const oldEnd = chunks.firstStartingAtOrAfter(w.end);
    if (oldStart >= oldEnd) continue;
    const last = splices[splices.length - 1];
    // Windows are disjoint but one range may meet two of them: such spans become one.
    if (last !== undefined && oldStart < last.oldEnd) {
      splices[splices.length - 1] = { ...last, oldEnd, ranges: view.slice(last.oldStart, oldEnd) };
    } else {
      splices.push({ oldStart, oldEnd, newStart: oldStart, ranges: view.slice(oldStart, oldEnd) });
    }
  }
  return resplice(prev, view, splices);
}

/** `prev`'s records with those of each splice's old ranges replaced by what its new ranges give. */
function resplice(prev: CollectedIoeventfds, view: FlatView, splices: readonly RangeSplice[]): CollectedIoeventfds {
  const from = prev.view;
  // Per splice: the records its old ranges gave ([lo, hi) of prev) and those its new ranges give.
  const blocks: { lo: number; hi: number; records: IoeventfdRecord[]; owners: FlatRange[] }[] = [];
  let changed = false;
  for (const s of splices) {
    const lo = firstOwnedFrom(prev.owners, from.at(s.oldStart));
    const hi = firstOwnedFrom(prev.owners, from.at(s.oldEnd));
    const records: IoeventfdRecord[] = [];
    const owners: FlatRange[] = [];
    for (const range of s.ranges) collectRange(range, records, owners);
    if (hi > lo || records.length > 0) changed = true;
    blocks.push({ lo, hi, records, owners });
  }
  if (!changed) return { view, records: prev.records, owners: prev.owners };
  const records: IoeventfdRecord[] = [];
  const owners: FlatRange[] = [];
  let kept = 0;
  for (const b of blocks) {
    for (let k = kept; k < b.lo; k++) {
      records.push(prev.records[k]!);
      owners.push(prev.owners[k]!);
    }
    for (let k = 0; k < b.records.length; k++) {
      records.push(b.records[k]!);
      owners.push(b.owners[k]!);
    }
    kept = b.hi;
  }
  for (let k = kept; k < prev.records.length; k++) {
    records.push(prev.records[k]!);
    owners.push(prev.owners[k]!);
  }
  return { view, records, owners };
}

/**
 * Index of the first record whose owner is `range` or a range after it (owners rise with the
 * view's ranges); the list's length when `range` is undefined (past the last range).
 */
function firstOwnedFrom(owners: readonly FlatRange[], range: FlatRange | undefined): number {
  if (range === undefined) return owners.length;
  let lo = 0;
  let hi = owners.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (owners[mid]!.start < range.start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
