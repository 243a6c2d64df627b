import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import type { FlatRange } from "../src/flat-range.js";

const mr = new MemoryRegion(new StandaloneHost(), { kind: "io", name: "x", size: 1n });

/** A FlatRange of one throwaway I/O region with default flags: only its bounds matter to the test. */
export const bareRange = (start: bigint, size: bigint): FlatRange => ({
  mr,
  start,
  size,
  offsetInRegion: 0n,
  dirtyLogMask: 0,
  romdMode: true,
  readonly: false,
  nonvolatile: false,
});
