import type { FlatView } from "@memtopo/flatview";
import type { ListenerCalls } from "./calls.js";
import { type MemoryListener, sectionFromFlatRange } from "./types.js";

/**
 * What else of the space a replayed listener hears, after its ranges and before `commit`
 * (the space's ioeventfds: `@memtopo/ioeventfd`'s `replayIoeventfdAdd`/`replayIoeventfdDel`).
 * Sections it makes carry `view`, the space's current view.
 */
export type SpaceReplay = (calls: ListenerCalls, listener: MemoryListener, view: FlatView) => void;

/**
 * What a newly registered listener is told, and only it (QEMU's `listener_add_address_space`
 * as in QEMU 8.0+, the project's choice over 7.2's gap): `begin`; `log_global_start` if
 * global dirty tracking is on; per range of the current view in address order `region_add`,
 * then `log_start(0 → mask)` when its mask is non-zero; then `rest` (the space's
 * `eventfd_add`s); `commit`. Sections carry the current view.
 */
export function replayRegister(
  calls: ListenerCalls,
  listener: MemoryListener,
  view: FlatView,
  globalDirtyTracking: boolean,
  rest?: SpaceReplay,
): void {
  calls.one(listener, "begin");
  if (globalDirtyTracking) calls.one(listener, "logGlobalStart");
  for (const range of view.ranges) {
    const section = sectionFromFlatRange(range, view);
    calls.one(listener, "regionAdd", section);
    if (range.dirtyLogMask !== 0) calls.one(listener, "logStart", section, 0, range.dirtyLogMask);
  }
  rest?.(calls, listener, view);
  calls.one(listener, "commit");
}

/**
 * What a listener is told when it is unregistered (QEMU's `listener_del_address_space`,
 * 8.0+): `begin`; per range `log_stop(mask → 0)` when its mask is non-zero, then
 * `region_del`; then `rest` (the space's `eventfd_del`s); `commit`.
 */
export function replayUnregister(
  calls: ListenerCalls,
  listener: MemoryListener,
  view: FlatView,
  rest?: SpaceReplay,
): void {
  calls.one(listener, "begin");
  for (const range of view.ranges) {
    const section = sectionFromFlatRange(range, view);
    if (range.dirtyLogMask !== 0) calls.one(listener, "logStop", section, range.dirtyLogMask, 0);
    calls.one(listener, "regionDel", section);
  }
  rest?.(calls, listener, view);
  calls.one(listener, "commit");
}
