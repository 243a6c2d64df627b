import { hex } from "@memtopo/region-tree";
import type { AddressSpace } from "memtopo";
import { MigrationError } from "./errors.js";

/** One flat range as a stream records it: where, which region (by name) from which offset, and how. */
export type ViewRange = readonly [start: string, size: string, region: string, offset: string, attributes: string];

export interface ViewDescription {
  readonly name: string;
  readonly ranges: readonly ViewRange[];
}

/** The flat views of `spaces`, by name: what a machine's guest sees, which a destination must reproduce. */
export function describeViews(spaces: readonly AddressSpace[]): ViewDescription[] {
  return spaces.map((as) => ({
    name: as.name,
    ranges: as.currentMap.ranges.map(
      (r): ViewRange => [
        hex(r.start),
        hex(r.size),
        r.mr.name ?? "",
        hex(r.offsetInRegion),
        `${r.mr.type()}${r.readonly ? " ro" : ""}${r.romdMode ? "" : " mmio"}`,
      ],
    ),
  }));
}

/** Throws E_STREAM_MAP naming the first difference between the source's views and the destination's. */
export function compareViews(source: readonly ViewDescription[], destination: readonly ViewDescription[]): void {
  if (source.length !== destination.length) {
    throw new MigrationError(
      "E_STREAM_MAP",
      `the source has ${source.length} address spaces, the destination ${destination.length}`,
    );
  }
  for (const [i, s] of source.entries()) {
    const d = destination[i]!;
    if (s.name !== d.name)
      throw new MigrationError("E_STREAM_MAP", `address space ${i} is "${s.name}" at the source, "${d.name}" here`);
    const n = Math.max(s.ranges.length, d.ranges.length);
    for (let j = 0; j < n; j++) {
      const a = s.ranges[j]?.join(" ") ?? "nothing";
      const b = d.ranges[j]?.join(" ") ?? "nothing";
      if (a !== b) {
        throw new MigrationError("E_STREAM_MAP", `"${s.name}" range ${j}: the source has ${a}, the destination ${b}`);
      }
    }
  }
}
