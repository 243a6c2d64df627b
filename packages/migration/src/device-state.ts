import { MigrationError } from "./errors.js";
import type { StateValue } from "./state-codec.js";

/**
 * A TypeScript device model's part in migration and snapshots, QEMU's VMStateDescription
 * reduced to what a TS model needs: an id unique in the machine, the version it writes,
 * the oldest it can still read, and a save/load pair. Loading is two-phase so that the
 * destination changes nothing until the whole stream checked: `prepareLoad` validates the
 * state and returns the function that applies it.
 */
export interface DeviceStateModel {
  /** Unique in the machine, stable across versions ("i440fx/pam", "demo-uart"). */
  readonly id: string;
  /** The version {@link save} writes (QEMU's `version_id`), a positive integer. */
  readonly version: number;
  /** The oldest version {@link prepareLoad} accepts (QEMU's `minimum_version_id`); `version` when absent. */
  readonly minVersion?: number;
  /** The model's state now (the machine is stopped). */
  save(): StateValue;
  /**
   * Checks `state` (written by a model of `version`, between minVersion and version) and
   * returns what applies it; throws (anything) to refuse, having changed nothing.
   */
  prepareLoad(state: StateValue, version: number): () => void;
}

/** Checks a machine's device list: ids unique and versions sane. */
export function checkDevices(devices: readonly DeviceStateModel[]): void {
  const ids = new Set<string>();
  for (const [i, d] of devices.entries()) {
    const path = `devices[${i}]`;
    if (typeof d?.id !== "string" || d.id.length === 0 || d.id.length > 255) {
      throw new MigrationError("E_INVALID_ARGUMENT", "a device id is a string of 1 to 255 characters", { path });
    }
    if (ids.has(d.id)) throw new MigrationError("E_INVALID_ARGUMENT", `two devices have the id "${d.id}"`, { path });
    ids.add(d.id);
    if (!isVersion(d.version))
      throw new MigrationError("E_INVALID_ARGUMENT", `device "${d.id}": version must be a positive u32`, { path });
    const min = d.minVersion ?? d.version;
    if (!isVersion(min) || min > d.version) {
      throw new MigrationError(
        "E_INVALID_ARGUMENT",
        `device "${d.id}": minVersion must be a positive u32 not above version`,
        { path },
      );
    }
  }
}

export function isVersion(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0xffff_ffff;
}
