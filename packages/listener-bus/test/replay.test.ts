import { renderFlatView } from "@memtopo/flatview";
import { type EventNotifier, MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { ListenerCalls, replayRegister, replayUnregister } from "../src/index.js";
import { logListener } from "./log-listener.js";

const e: EventNotifier = { id: 1, signal: () => {} };

function view() {
  const host = new StandaloneHost();
  const root = new MemoryRegion(host, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
  const vram = new MemoryRegion(host, { kind: "ram", name: "vram", size: 0x1000n });
  vram.setLog(true);
  root.addSubregion(0n, ram);
  root.addSubregion(0x2000n, vram);
  return renderFlatView(root);
}

const fds = [
  { start: 0x5000n, size: 2n, matchData: true, data: 1n, notifier: e },
  { start: 0x6000n, size: 0n, matchData: false, data: 0n, notifier: e },
];

describe("replay to a late listener (listener_add_address_space), ioeventfds included as QEMU 8.0 and later replay them", () => {
  it("register: begin, [log_global_start], per range region_add then log_start(0 -> mask), eventfd_add per entry, commit", () => {
    const log: string[] = [];
    replayRegister(new ListenerCalls(), logListener(log, "L"), view(), fds, true);
    expect(log).toEqual([
      "L:begin",
      "L:log_global_start",
      "L:add 0+1000 ram@0",
      "L:add 2000+1000 vram@0",
      "L:log_start 2000+1000 vram@0 0->1",
      "L:eventfd_add 5000=1",
      "L:eventfd_add 6000",
      "L:commit",
    ]);
  });

  it("unregister: begin, per range log_stop(mask -> 0) then region_del, eventfd_del per entry, commit", () => {
    const log: string[] = [];
    replayUnregister(new ListenerCalls(), logListener(log, "L"), view(), fds);
    expect(log).toEqual([
      "L:begin",
      "L:del 0+1000 ram@0",
      "L:log_stop 2000+1000 vram@0 1->0",
      "L:del 2000+1000 vram@0",
      "L:eventfd_del 5000=1",
      "L:eventfd_del 6000",
      "L:commit",
    ]);
  });

  it("replay sections carry the current view", () => {
    const v = view();
    const fvs: unknown[] = [];
    replayRegister(
      new ListenerCalls(),
      { regionAdd: (s) => fvs.push(s.fv), eventfdAdd: (s) => fvs.push(s.fv) },
      v,
      fds,
      false,
    );
    expect(fvs).toEqual([v, v, v, v]);
  });
});
