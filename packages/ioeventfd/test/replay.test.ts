import { renderFlatView } from "@memtopo/flatview";
import { ListenerCalls, type MemoryListener, replayRegister, replayUnregister } from "@memtopo/listener-bus";
import { type EventNotifier, MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type IoeventfdRecord, replayIoeventfdAdd, replayIoeventfdDel } from "../src/index.js";

const e: EventNotifier = { id: 1, signal: () => {} };
const h = (v: bigint): string => v.toString(16);

/** A port space with one virtio BAR: the view the ioeventfds below belong to. */
function view() {
  const host = new StandaloneHost();
  const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x10000n });
  const bar = new MemoryRegion(host, { kind: "io", name: "virtio-pci", size: 0x40n });
  io.addSubregion(0xc000n, bar);
  return renderFlatView(io);
}

const fds: IoeventfdRecord[] = [
  { start: 0xc010n, size: 2n, matchData: true, data: 1n, notifier: e },
  { start: 0xc014n, size: 0n, matchData: false, data: 0n, notifier: e },
];

function logListener(log: string[]): MemoryListener {
  const put = (t: string) => log.push(`L:${t}`);
  return {
    begin: () => put("begin"),
    commit: () => put("commit"),
    regionAdd: (s) => put(`add ${h(s.offsetWithinAddressSpace)}+${h(s.size)} ${s.mr?.name}`),
    regionDel: (s) => put(`del ${h(s.offsetWithinAddressSpace)}+${h(s.size)} ${s.mr?.name}`),
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
      "L:add 0+c000 io",
      "L:add c000+40 virtio-pci",
      "L:add c040+3fc0 io",
      "L:eventfd_add c010/2=1",
      "L:eventfd_add c014/0",
      "L:commit",
    ]);
  });

  it("unregister: eventfd_del per entry, after the ranges and before commit", () => {
    const log: string[] = [];
    replayUnregister(new ListenerCalls(), logListener(log), view(), replayIoeventfdDel(fds));
    expect(log).toEqual([
      "L:begin",
      "L:del 0+c000 io",
      "L:del c000+40 virtio-pci",
      "L:del c040+3fc0 io",
      "L:eventfd_del c010/2=1",
      "L:eventfd_del c014/0",
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
      v,
      {
        mr: null,
        fv: v,
        offsetWithinRegion: 0n,
        offsetWithinAddressSpace: 0xc010n,
        size: 2n,
        readonly: false,
        nonvolatile: false,
      },
      {
        mr: null,
        fv: v,
        offsetWithinRegion: 0n,
        offsetWithinAddressSpace: 0xc014n,
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
          if (s.offsetWithinAddressSpace === 0xc010n) throw new Error("assign refused");
        },
      },
      view(),
      false,
      replayIoeventfdAdd(fds),
    );
    expect(log.slice(-3)).toEqual(["L:eventfd_add c010/2=1", "L:eventfd_add c014/0", "L:commit"]);
    expect(calls.failures.map((f) => f.callback)).toEqual(["eventfdAdd"]);
  });
});
