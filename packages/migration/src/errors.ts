import { MemtopoError } from "@memtopo/region-tree";

/**
 * The stable codes of {@link MigrationError}. `E_STREAM_*` refuse a stream (nothing the
 * destination holds may run afterwards); the others refuse a call and change nothing.
 */
export type MigrationErrorCode =
  | "E_STREAM_MAGIC"
  | "E_STREAM_VERSION"
  | "E_STREAM_TRUNCATED"
  | "E_STREAM_CHECKSUM"
  | "E_STREAM_SECTION"
  | "E_STREAM_RAM"
  | "E_STREAM_VCPU"
  | "E_STREAM_DEVICE"
  | "E_STREAM_MAP"
  | "E_MIGRATION_STATE"
  | "E_VCPU_RUNNING"
  | "E_INVALID_ARGUMENT"
  | "E_RAM_BLOCK_NAME"
  | "E_HOTPLUG_RANGE"
  | "E_HOTPLUG_UNKNOWN"
  | "E_HOTPLUG_BLOCK"
  | "E_HOTPLUG_MIGRATING";

/** A refused stream, migration step, snapshot or hotplug request. */
export class MigrationError extends MemtopoError {
  declare readonly code: MigrationErrorCode;

  constructor(code: MigrationErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}
