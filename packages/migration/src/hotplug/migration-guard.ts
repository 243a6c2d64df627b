import { GLOBAL_DIRTY_MIGRATION, type MemorySystem } from "memtopo";
import { MigrationError } from "../errors.js";

/**
 * Refuses a RAM plug or unplug while a migration of `system` runs (from its first round, which starts the
 * migration client of the global dirty log, to its completion, which stops it). QEMU refuses the same: pc-dimm's
 * device_add and device_del fail while migration is not idle, and virtio-mem answers its guest's plug and unplug
 * requests with BUSY. A RAM block that appears after the stream's MAP, or goes before the last round, would leave
 * the destination with pages the stream cannot describe.
 */
export function refuseWhileMigrating(system: MemorySystem, what: string): void {
  if ((system.globalDirtyTracking & GLOBAL_DIRTY_MIGRATION) !== 0) {
    throw new MigrationError(
      "E_HOTPLUG_MIGRATING",
      `${what} refused: a migration of this machine is running (retry once it has completed)`,
    );
  }
}
