import { renderFlatView } from "@memtopo/flatview";
import { ListenerCalls, type MemoryListener, replayRegister, replayUnregister } from "@memtopo/listener-bus";
import { type EventNotifier, MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type IoeventfdRecord, replayIoeventfdAdd, replayIoeventfdDel } from "../src/index.js";

const e: EventNotifier = { id: 1, signal: () => {} };
const h = (v: bigint): string => v.toString(16);

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

const fds: IoeventfdRecord[] = [
  { start: 0x5000n, size: 2n, matchData: true, data: 1n, notifier: e },
  { start: 0x6000n, size: 0n, matchData: false, data: 0n, notifier: e },
];

function logListener(log: string[]): MemoryListener {
  const put = (t: string) => log.push(`L:${t}`);
  return {
    begin: () => put("begin"),
    commit: () => put("commit"),
    regionAdd: (s) => put(`add ${h(s.offsetWithinAddressSpace)}+${h(s.size)} ${s.mr?.name}`),
    regionDel: (s) => put(`del ${h(s.offsetWithinAddressSpace)}+${h(s.size)} ${s.mr?.name}`),
    logStart: (s, o, n) => put(`log_start ${h(s.offsetWithinAddressSpace)} ${o}->${n}`),
    logStop: (s, o, n) => put(`log_stop ${h(s.offsetWithinAddressSpace)} ${o}->${n}`),
    logGlobalStart: () => put("log_global_start"),
    eventfdAdd: (s, m, d) => put(`eventfd_add ${h(s.offsetWithinAddressSpace)}/${s.size}${m ? `=${h(d)}` : ""}`),
    eventfdDel: (s, m, d) => put(`eventfd_del ${h(s.offsetWithinAddressSpace)}/${s.size}${m ? `=${h(d)}` : ""}`),
  };
}

describe("the space's ioeventfds replayed to a late listener (listener_add_address_space / listener_del_address_space, as QEMU 8.0 and later)", () => {
  it("register: eventfd_add per entry in the list's order, after the ranges and before commit", () => {
    const log: string[] = [];
    replayRegister(new ListenerCalls(), logListener(log), view(), true, replayIoeventfdAdd(fds));
    expect(log).toEqual([
      "L:begin",
      "L:log_global_start",
      "L:add 0+1000 ram",
      "L:add 2000+1000 vram",
      "L:log_start 2000 0->1",
      "L:eventfd_add 5000/2=1",
      "L:eventfd_add 6000/0",
      "L:commit",
    ]);
  });

  it("unregister: eventfd_del per entry, after the ranges and before commit", () => {
    const log: string[] = [];
    replayUnregister(new ListenerCalls(), logListener(log), view(), replayIoeventfdDel(fds));
    expect(log).toEqual([
      "L:begin",
      "L:del 0+1000 ram",
      "L:log_stop 2000 1->0",
      "L:del 2000+1000 vram",
      "L:eventfd_del 5000/2=1",
      "L:eventfd_del 6000/0",
      "L:commit",
    ]);
  });

  it("replayed ioeventfd sections carry the current view, no region and offset 0 (sectionFromIoeventfd)", () => {
    const v = view();
    const sections: unknown[] = [];
    replayRegister(
      new ListenerCalls(),
      { regionAdd: (s) => sections.push(s.fv), eventfdAdd: (s) => sections.push(s) },
      v,
      false,
      replayIoeventfdAdd(fds),
    );
    expect(sections).toEqual([
      v,
      v,
      {
        mr: null,
        fv: v,
        offsetWithinRegion: 0n,
        offsetWithinAddressSpace: 0x5000n,
        size: 2n,
        readonly: false,
        nonvolatile: false,
      },
      {
        mr: null,
        fv: v,
        offsetWithinRegion: 0n,
        offsetWithinAddressSpace: 0x6000n,
        size: 0n,
        readonly: false,
        nonvolatile: false,
      },
    ]);
  });

  it("a listener that throws on one entry is recorded and the replay goes on to the next and to commit", () => {
    const log: string[] = [];
    const listener = logListener(log);
    const calls = new ListenerCalls();
    replayRegister(
      calls,
      {
        ...listener,
        eventfdAdd: (s, m, d, n) => {
          listener.eventfdAdd!(s, m, d, n);
          if (s.offsetWithinAddressSpace === 0x5000n) throw new Error("assign refused");
        },
      },
      view(),
      false,
      replayIoeventfdAdd(fds),
    );
    expect(log.slice(-3)).toEqual(["L:eventfd_add 5000/2=1", "L:eventfd_add 6000/0", "L:commit"]);
    expect(calls.failures.map((f) => f.callback)).toEqual(["eventfdAdd"]);
  });
});
