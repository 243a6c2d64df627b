import type { MemoryRegion } from "@memtopo/region-tree";
import { GLOBAL_DIRTY_MIGRATION, type MemorySystem } from "memtopo";

/**
 * Where pre-copy learns which pages the guest wrote: QEMU's migration bitmap, per RAM
 * block. `take` syncs (`memory_global_dirty_log_sync`) and returns, per block, the page
 * offsets dirtied since the last take (or since `start`).
 */
export interface DirtyPageSource {
  start(): void;
  take(blocks: readonly MemoryRegion[]): Map<MemoryRegion, bigint[]>;
  stop(): void;
}

/** The 4 KiB pages a migration bitmap covers. */
const PAGE = 4096n;

/**
 * Global dirty logging of a MemorySystem with its KVM listeners attached: `start` is
 * `memory_global_dirty_log_start(MIGRATION)` (every RAM slot gets LOG_DIRTY_PAGES); `take`
 * is `migration_bitmap_sync`: `memory_global_dirty_log_sync`, which fetches every slot's log
 * into the system's per-block dirty memory (a slot deleted meanwhile by a PAM toggle or a
 * BAR move was synced as it went), then each block's MIGRATION bitmap, taken and cleared.
 */
export function systemDirtyPageSource(system: MemorySystem): DirtyPageSource {
  return {
    start() {
      system.startDirtyLog(GLOBAL_DIRTY_MIGRATION);
    },
    take(blocks) {
      system.syncDirtyLog();
      const out = new Map<MemoryRegion, bigint[]>();
      for (const mr of blocks) {
        const bitmap = system.takeDirtyBitmap(mr);
        const pages: bigint[] = [];
        for (let byte = 0; byte < bitmap.length; byte++) {
          const bits = bitmap[byte]!;
          if (bits === 0) continue;
          for (let bit = 0; bit < 8; bit++) if ((bits & (1 << bit)) !== 0) pages.push(BigInt(byte * 8 + bit) * PAGE);
        }
        if (pages.length > 0) out.set(mr, pages);
      }
      return out;
    },
    stop() {
      system.stopDirtyLog(GLOBAL_DIRTY_MIGRATION);
    },
  };
}
