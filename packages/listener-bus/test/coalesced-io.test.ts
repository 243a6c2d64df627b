import { renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { ListenerCalls, notifyCoalescedRange, updateTopology } from "../src/index.js";
import { logListener } from "./log-listener.js";

/** QEMU's PC RTC (mc146818rtc): `rtc` (2 ports at 0x70) with `rtc-index` (1 port at its start) coalesced. */
function rtcMachine() {
  const host = new StandaloneHost();
  const io = new MemoryRegion(host, { kind: "container", name: "io", size: SIZE_2_64 });
  const rtc = new MemoryRegion(host, { kind: "io", name: "rtc", size: 2n });
  const index = new MemoryRegion(host, { kind: "io", name: "rtc-index", size: 1n });
  rtc.addSubregion(0n, index);
  io.addSubregion(0x70n, rtc);
  index.addCoalescing(0n, 1n);
  return { host, io, rtc, index };
}

function run(step: (calls: ListenerCalls, log: string[]) => void): string[] {
  const log: string[] = [];
  const calls = new ListenerCalls();
  step(calls, log);
  calls.throwIfFailed("test");
  return log;
}

describe("coalesced ranges inside the topology passes (flat_range_coalesced_io_add)", () => {
  it("an added range's coalesced parts follow its region_add (Forward); a deleted one's precede its region_del (Reverse)", () => {
    const m = rtcMachine();
    const first = renderFlatView(m.io);
    const added = run((calls, log) =>
      updateTopology(calls, [logListener(log, "L0", 0), logListener(log, "L1", 1)], null, first),
    );
    expect(added.filter((x) => x.includes("rtc-index"))).toEqual([
      "L0:add 70+1 rtc-index@0",
      "L1:add 70+1 rtc-index@0",
      "L0:coalesced_add 70+1 in 70+1 rtc-index@0",
      "L1:coalesced_add 70+1 in 70+1 rtc-index@0",
    ]);
    m.rtc.setEnabled(false);
    const deleted = run((calls, log) =>
      updateTopology(calls, [logListener(log, "L0", 0), logListener(log, "L1", 1)], first, renderFlatView(m.io)),
    );
    expect(deleted.filter((x) => x.includes("rtc-index"))).toEqual([
      "L1:coalesced_del 70+1 in 70+1 rtc-index@0",
      "L0:coalesced_del 70+1 in 70+1 rtc-index@0",
      "L1:del 70+1 rtc-index@0",
      "L0:del 70+1 rtc-index@0",
    ]);
  });

  it("each coalesced range is cut to what the FlatRange shows; an unchanged range sends none", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const dev = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    const cover = new MemoryRegion(host, { kind: "io", name: "cover", size: 0x20n });
    dev.addCoalescing(0x10n, 0x20n);
    dev.addCoalescing(0xf0n, 0x10n);
    root.addSubregion(0x1000n, dev);
    root.addSubregionOverlap(0x1020n, cover, 1);
    const log = run((calls, out) => updateTopology(calls, [logListener(out, "L")], null, renderFlatView(root)));
    expect(log.filter((x) => x.includes("coalesced"))).toEqual([
      "L:coalesced_add 1010+10 in 1000+20 dev@0",
      "L:coalesced_add 10f0+10 in 1040+c0 dev@40",
    ]);
    const view = renderFlatView(root);
    const again = run((calls, out) => updateTopology(calls, [logListener(out, "L")], view, renderFlatView(root)));
    expect(again.filter((x) => x.includes("coalesced"))).toEqual([]);
  });
});

describe("add_coalescing / clear_coalescing notify at once (memory_region_add_coalescing)", () => {
  it("every FlatRange of the region in the view, the intersection of each, in address order", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "root", size: SIZE_2_64 });
    const dev = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    const hole = new MemoryRegion(host, { kind: "io", name: "hole", size: 0x10n });
    root.addSubregion(0x1000n, dev);
    root.addSubregionOverlap(0x1040n, hole, 1);
    const view = renderFlatView(root);
    const log = run((calls, out) =>
      notifyCoalescedRange(
        calls,
        [logListener(out, "L0", 0), logListener(out, "L1", 1)],
        view,
        dev,
        {
          offset: 0x30n,
          size: 0x40n,
        },
        false,
      ),
    );
    expect(log).toEqual([
      "L1:coalesced_del 1030+10 in 1000+40 dev@0",
      "L0:coalesced_del 1030+10 in 1000+40 dev@0",
      "L1:coalesced_del 1050+20 in 1050+b0 dev@50",
      "L0:coalesced_del 1050+20 in 1050+b0 dev@50",
    ]);
  });
});
