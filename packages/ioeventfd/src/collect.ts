import type { FlatRange, FlatView } from "@memtopo/flatview";
import type { IoeventfdRecord } from "@memtopo/region-tree";

/**
 * QEMU's `address_space_update_ioeventfds` collection step: for each range of the view in
 * address order, each record of the range's region in the region's order, shifted from
 * region offsets to address-space addresses, kept when it intersects the range (a size-0
 * record counts when its start lies in the range). No sort and no de-duplication: a record
 * that straddles two ranges of its region is collected twice, as in QEMU.
 */
export function collectIoeventfds(view: FlatView): IoeventfdRecord[] {
  const out: IoeventfdRecord[] = [];
  for (const range of view.ranges) collectRange(range, out);
  return out;
}

/** The records one range of a view gives, appended to `out` (and the range to `owners` once per record). */
export function collectRange(range: FlatRange, out: IoeventfdRecord[], owners?: FlatRange[]): void {
  const records = range.mr.ioeventfds;
  if (records.length === 0) return;
  const shift = range.start - range.offsetInRegion;
  const end = range.start + range.size;
  for (const record of records) {
    const start = record.start + shift;
    // addrrange_intersects: one range contains the start of the other.
    const intersects =
      (start >= range.start && start < end) || (range.start >= start && range.start - start < record.size);
    if (intersects) {
      out.push(start === record.start ? record : { ...record, start });
      owners?.push(range);
    }
  }
}
