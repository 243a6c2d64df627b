import type { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace } from "memtopo";
import { MigrationError } from "./errors.js";

/**
 * The RAM-backed regions the views of `spaces` show (RAM, ROM, ROM devices; RAM devices
 * are device memory QEMU does not migrate), each once, in the order first seen: QEMU's
 * migratable RAMBlocks. Their names are their ids in a stream, so two with one name are
 * refused (E_RAM_BLOCK_NAME): give the caller's list explicitly then.
 */
export function ramBlocksOf(spaces: readonly AddressSpace[]): MemoryRegion[] {
  const out: MemoryRegion[] = [];
  const seen = new Set<MemoryRegion>();
  for (const as of spaces) {
    for (const range of as.currentMap.ranges) {
      const mr = range.mr;
      if (mr.ramBlock === null || mr.ramDevice || seen.has(mr)) continue;
      seen.add(mr);
      out.push(mr);
    }
  }
  checkRamBlocks(out);
  return out;
}

/** Refuses a block list a stream could not name unambiguously. */
export function checkRamBlocks(blocks: readonly MemoryRegion[]): void {
  const names = new Set<string>();
  for (const [i, mr] of blocks.entries()) {
    if (mr.ramBlock === null) {
      throw new MigrationError("E_INVALID_ARGUMENT", `region "${mr.name}" has no RAM block`, {
        path: `ramBlocks[${i}]`,
      });
    }
    if (mr.name === null) {
      throw new MigrationError("E_RAM_BLOCK_NAME", "a RAM block has no name: a stream names blocks", {
        path: `ramBlocks[${i}]`,
      });
    }
    if (names.has(mr.name)) {
      throw new MigrationError(
        "E_RAM_BLOCK_NAME",
        `two RAM blocks are named "${mr.name}": a stream could not tell them apart`,
        {
          path: `ramBlocks[${i}]`,
        },
      );
    }
    names.add(mr.name);
  }
}
