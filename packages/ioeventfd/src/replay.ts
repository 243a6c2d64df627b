import type { SpaceReplay } from "@memtopo/listener-bus";
import type { IoeventfdRecord } from "@memtopo/region-tree";
import { sectionFromIoeventfd } from "./section.js";

/**
 * The ioeventfd part of QEMU 8.0+'s `listener_add_address_space`, as the rest of listener-bus's
 * `replayRegister`: `eventfd_add` to the new listener alone for every entry of the space's
 * list, in the list's order. Sections carry the space's current view.
 */
export function replayIoeventfdAdd(records: readonly IoeventfdRecord[]): SpaceReplay {
  return replayEach(records, "eventfdAdd");
}

/** The mirror of {@link replayIoeventfdAdd} for `listener_del_address_space`: `eventfd_del` per entry. */
export function replayIoeventfdDel(records: readonly IoeventfdRecord[]): SpaceReplay {
  return replayEach(records, "eventfdDel");
}

function replayEach(records: readonly IoeventfdRecord[], callback: "eventfdAdd" | "eventfdDel"): SpaceReplay {
  return (calls, listener, view) => {
    for (const fd of records) {
      calls.one(listener, callback, sectionFromIoeventfd(fd, view), fd.matchData, fd.data, fd.notifier);
    }
  };
}
