import { renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import {
  ListenerCalls,
  type MemoryListener,
  replayRegister,
  replayUnregister,
  type SpaceReplay,
} from "../src/index.js";
import { logListener } from "./log-listener.js";

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

/** The rest of a replay (the space's ioeventfds, in the facade): logs where it ran and what it was given. */
function rest(log: string[], seen: { listener?: MemoryListener; view?: unknown }): SpaceReplay {
  return (_calls, listener, v) => {
    log.push("L:rest");
    seen.listener = listener;
    seen.view = v;
  };
}

describe("replay to a late listener (listener_add_address_space), with the space's rest (its ioeventfds) before commit as QEMU 8.0 and later replay them", () => {
  it("register: begin, [log_global_start], per range region_add then log_start(0 -> mask), the rest, commit", () => {
    const log: string[] = [];
    const seen: { listener?: MemoryListener; view?: unknown } = {};
    const v = view();
    const listener = logListener(log, "L");
    replayRegister(new ListenerCalls(), listener, v, true, rest(log, seen));
    expect(log).toEqual([
      "L:begin",
      "L:log_global_start",
      "L:add 0+1000 ram@0",
      "L:add 2000+1000 vram@0",
      "L:log_start 2000+1000 vram@0 0->1",
      "L:rest",
      "L:commit",
    ]);
    expect(seen.listener).toBe(listener);
    expect(seen.view).toBe(v);
  });

  it("unregister: begin, per range log_stop(mask -> 0) then region_del, the rest, commit", () => {
    const log: string[] = [];
    const seen: { listener?: MemoryListener; view?: unknown } = {};
    const v = view();
    replayUnregister(new ListenerCalls(), logListener(log, "L"), v, rest(log, seen));
    expect(log).toEqual([
      "L:begin",
      "L:del 0+1000 ram@0",
      "L:log_stop 2000+1000 vram@0 1->0",
      "L:del 2000+1000 vram@0",
      "L:rest",
      "L:commit",
    ]);
    expect(seen.view).toBe(v);
  });

  it("without a rest: the ranges alone between begin and commit; no log_global_start when tracking is off", () => {
    const log: string[] = [];
    replayRegister(new ListenerCalls(), logListener(log, "L"), view(), false);
    expect(log).toEqual([
      "L:begin",
      "L:add 0+1000 ram@0",
      "L:add 2000+1000 vram@0",
      "L:log_start 2000+1000 vram@0 0->1",
      "L:commit",
    ]);
  });

  it("replay sections carry the current view", () => {
    const v = view();
    const fvs: unknown[] = [];
    replayRegister(new ListenerCalls(), { regionAdd: (s) => fvs.push(s.fv) }, v, false);
    expect(fvs).toEqual([v, v]);
  });
});
