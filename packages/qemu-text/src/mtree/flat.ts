import type { FlatView } from "@memtopo/flatview";
import { escapeText } from "@memtopo/region-tree";
import type { AddressSpaceShape } from "memtopo";
import { hex16, mrSize, ownerSuffix, regionName } from "./format.js";
import { TextSink } from "./text-sink.js";

export interface FlatOptions {
  /** `-o`: print owners (best effort, see {@link ownerSuffix}). */
  readonly owner?: boolean;
  /**
   * The accelerator's `has_memory`: asked once per range and per address space of the
   * view with the range's exact start and size; every `true` appends ` ${accelName}`
   * (QEMU: the KVM memory listener has a slot with exactly this start and size).
   */
  readonly accelHasMemory?: (space: AddressSpaceShape, start: bigint, size: bigint) => boolean;
  /** The word appended for `accelHasMemory`; QEMU prints the accelerator's name, `KVM`. */
  readonly accelName?: string;
}

/**
 * `info mtree -f`: one block per FlatView object that some space uses (spaces listed
 * in creation order), ranges in address order. A range prints its terminating region's
 * own priority, `rom` when the range is read-only, `nv-` when the range is nonvolatile
 * and `@offset` when its offset in the region is not 0. Blocks follow the order in which
 * the views are first used; QEMU's own order is a hash-table order, so compare as multisets.
 */
export function printMtreeFlat(spaces: readonly AddressSpaceShape[], options: FlatOptions = {}): string {
  const views = new Map<FlatView, AddressSpaceShape[]>();
  for (const as of spaces) {
    const list = views.get(as.currentMap) ?? [];
    list.push(as);
    views.set(as.currentMap, list);
  }
  const out = new TextSink();
  let counter = 0;
  for (const [view, users] of views) {
    out.push(`FlatView #${counter++}\n`);
    for (const as of users) {
      const root = as.root === null ? "(null)" : regionName(as.root);
      const alias = as.root?.alias ? `, alias ${regionName(as.root.alias)}` : "";
      out.push(` AS "${escapeText(as.name)}", root: ${root}${alias}\n`);
    }
    out.push(` Root memory region: ${view.root === null ? "(none)" : regionName(view.root)}\n`);
    if (view.ranges.length === 0) {
      out.push("  No rendered FlatView\n\n");
      continue;
    }
    for (const range of view.ranges) {
      const mr = range.mr;
      const end = range.start + mrSize(range.size);
      const type = range.readonly ? "rom" : mr.type();
      let line = `  ${hex16(range.start)}-${hex16(end)} (prio ${mr.priority}, ${range.nonvolatile ? "nv-" : ""}${type}): `;
      line += regionName(mr);
      if (range.offsetInRegion !== 0n) line += ` @${hex16(range.offsetInRegion)}`;
      if (options.owner === true) line += ownerSuffix(mr);
      if (options.accelHasMemory !== undefined) {
        const word = options.accelName ?? "KVM";
        for (const as of users) if (options.accelHasMemory(as, range.start, range.size)) line += ` ${word}`;
      }
      out.push(`${line}\n`);
    }
    out.push("\n");
  }
  return out.text();
}
