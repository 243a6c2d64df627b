import type { FlatView } from "@memtopo/flatview";
import type { IoeventfdRecord } from "@memtopo/region-tree";
import type { ListenerCalls } from "./calls.js";
import { type MemoryListener, sectionFromFlatRange, sectionFromIoeventfd } from "./types.js";

/**
 * What a newly registered listener is told, and only it (QEMU's `listener_add_address_space`
 * as in QEMU 8.0+, the project's choice over 7.2's gap): `begin`; `log_global_start` if
 * global dirty tracking is on; per range of the current view in address order `region_add`,
 * then `log_start(0 → mask)` when its mask is non-zero; `eventfd_add` for every entry of the
 * space's ioeventfd list; `commit`. Sections carry the current view.
 */
export function replayRegister(
  calls: ListenerCalls,
  listener: MemoryListener,
  view: FlatView,
  ioeventfds: readonly IoeventfdRecord[],
  globalDirtyTracking: boolean,
): void {
  calls.one(listener, "begin");
  if (globalDirtyTracking) calls.one(listener, "logGlobalStart");
  for (const range of view.ranges) {
    const section = sectionFromFlatRange(range, view);
    calls.one(listener, "regionAdd", section);
    if (range.dirtyLogMask !== 0) calls.one(listener, "logStart", section, 0, range.dirtyLogMask);
  }
  for (const fd of ioeventfds) {
    calls.one(listener, "eventfdAdd", sectionFromIoeventfd(fd, view), fd.matchData, fd.data, fd.notifier);
  }
  calls.one(listener, "commit");
}

/**
 * What a listener is told when it is unregistered (QEMU's `listener_del_address_space`,
 * 8.0+): `begin`; per range `log_stop(mask → 0)` when its mask is non-zero, then
 * `region_del`; `eventfd_del` for every ioeventfd of the space; `commit`.
 */
export function replayUnregister(
  calls: ListenerCalls,
  listener: MemoryListener,
  view: FlatView,
  ioeventfds: readonly IoeventfdRecord[],
): void {
  calls.one(listener, "begin");
  for (const range of view.ranges) {
    const section = sectionFromFlatRange(range, view);
    if (range.dirtyLogMask !== 0) calls.one(listener, "logStop", section, range.dirtyLogMask, 0);
    calls.one(listener, "regionDel", section);
  }
  for (const fd of ioeventfds) {
    calls.one(listener, "eventfdDel", sectionFromIoeventfd(fd, view), fd.matchData, fd.data, fd.notifier);
  }
  calls.one(listener, "commit");
}
