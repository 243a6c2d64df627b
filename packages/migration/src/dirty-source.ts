import type { MemoryRegion } from "@memtopo/region-tree";
import { dirtyPageOffsets, GLOBAL_DIRTY_MIGRATION, type MemorySystem } from "memtopo";

/**
 * Where pre-copy learns which pages the guest wrote: QEMU's migration bitmap, per RAM
 * block. `take` syncs (`memory_global_dirty_log_sync`) and returns, per block, the page
 * offsets dirtied since the last take (or since `start`).
 */
export interface DirtyPageSource {
  start(): void;
  /** `lastStage`: the sync after the guest stopped (`migration_bitmap_sync` of the completion). */
  take(blocks: readonly MemoryRegion[], lastStage?: boolean): Map<MemoryRegion, bigint[]>;
  stop(): void;
}

/**
 * Global dirty logging of a MemorySystem with its KVM listeners attached: `start` is
 * `memory_global_dirty_log_start(MIGRATION)` (every RAM slot gets LOG_DIRTY_PAGES); `take`
 * is `migration_bitmap_sync`: `memory_global_dirty_log_sync`, which fetches every slot's log
 * into the system's per-block dirty memory (a slot deleted meanwhile by a PAM toggle or a
 * BAR move was synced as it went), then each block's MIGRATION bitmap, taken and cleared
 * (with manual protect the kernel re-protects the pages then): sync, take, and only then
 * copy, as docs/dirty-tracking.md says. Works in all three kernel modes (bitmap, manual
 * protect, dirty ring), whichever the VM enabled.
 */
export function systemDirtyPageSource(system: MemorySystem): DirtyPageSource {
  return {
    start() {
      system.startDirtyLog(GLOBAL_DIRTY_MIGRATION);
    },
    take(blocks, lastStage = false) {
      system.syncDirtyLog(undefined, lastStage);
      const out = new Map<MemoryRegion, bigint[]>();
      for (const mr of blocks) {
        const pages = dirtyPageOffsets(system.takeDirtyBitmap(mr));
        if (pages.length > 0) out.set(mr, pages);
      }
      return out;
    },
    stop() {
      system.stopDirtyLog(GLOBAL_DIRTY_MIGRATION);
    },
  };
}
