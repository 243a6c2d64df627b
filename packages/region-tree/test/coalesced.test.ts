import { describe, expect, it } from "vitest";
import {
  type CoalescedRange,
  coalescedIntersection,
  MemoryRegion,
  type RegionHost,
  StandaloneHost,
} from "../src/index.js";

/** A host that records what coalescing tells it. */
class RecordingHost extends StandaloneHost implements RegionHost {
  readonly log: string[] = [];
  coalescingChanged(mr: MemoryRegion, range: CoalescedRange, added: boolean): void {
    this.log.push(`${added ? "add" : "del"} ${mr.name} ${range.offset.toString(16)}+${range.size.toString(16)}`);
  }
  flushCoalescedMmio(): void {
    this.log.push("flush");
  }
}

describe("coalesced MMIO / PIO ranges on a region (memory_region_add_coalescing)", () => {
  it("add_coalescing appends the range, tells the host at once (no transaction), then sets flush_coalesced_mmio", () => {
    const host = new RecordingHost();
    const rtc = new MemoryRegion(host, { kind: "io", name: "rtc-index", size: 1n });
    expect(rtc.flushCoalescedMmio).toBe(false);
    rtc.addCoalescing(0n, 1n);
    expect(rtc.coalesced).toEqual([{ offset: 0n, size: 1n }]);
    expect(rtc.flushCoalescedMmio).toBe(true);
    expect(host.log).toEqual(["add rtc-index 0+1"]);
    expect(host.depth).toBe(0);
    expect(host.topologyPending).toBe(false);
  });

  it("clear_coalescing flushes first, clears the flag, and removes the ranges head first", () => {
    const host = new RecordingHost();
    const mr = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    mr.addCoalescing(0x10n, 0x10n);
    mr.addCoalescing(0x40n, 0x20n);
    host.log.length = 0;
    mr.clearCoalescing();
    expect(host.log).toEqual(["flush", "del dev 10+10", "del dev 40+20"]);
    expect(mr.coalesced).toEqual([]);
    expect(mr.flushCoalescedMmio).toBe(false);
    mr.clearCoalescing();
    expect(host.log).toHaveLength(3);
  });

  it("set_coalescing is clear then the whole region", () => {
    const host = new RecordingHost();
    const mr = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    mr.addCoalescing(0x10n, 0x10n);
    host.log.length = 0;
    mr.setCoalescing();
    expect(host.log).toEqual(["flush", "del dev 10+10", "add dev 0+100"]);
  });

  it("clear_flush_coalesced flushes, and only sticks while the region has no coalesced ranges", () => {
    const host = new RecordingHost();
    const rtc = new MemoryRegion(host, { kind: "io", name: "rtc", size: 2n });
    rtc.setFlushCoalesced();
    rtc.clearFlushCoalesced();
    expect(rtc.flushCoalescedMmio).toBe(false);
    rtc.addCoalescing(0n, 1n);
    rtc.clearFlushCoalesced();
    expect(rtc.flushCoalescedMmio).toBe(true);
    expect(host.log).toEqual(["flush", "add rtc 0+1", "flush"]);
  });

  it("a range outside the region, empty or not a u64 is a typed error and changes nothing", () => {
    const host = new RecordingHost();
    const mr = new MemoryRegion(host, { kind: "io", name: "dev", size: 0x100n });
    for (const [offset, size] of [
      [0xf0n, 0x20n],
      [0n, 0n],
      [-1n, 1n],
      [0n, 2n ** 65n],
      [1 as unknown as bigint, 1n],
    ] as const) {
      expect(() => mr.addCoalescing(offset, size)).toThrow(expect.objectContaining({ name: "RegionTreeError" }));
    }
    expect(mr.coalesced).toEqual([]);
    expect(mr.flushCoalescedMmio).toBe(false);
    expect(host.log).toEqual([]);
  });
});

describe("the part of a coalesced range a FlatRange shows (flat_range_coalesced_io_add)", () => {
  it("is the intersection in address-space addresses (the range shifted by start - offset_in_region)", () => {
    // `memory_region_add_coalescing`: rtc-index (1 port) at 0x70 coalesced whole: the zone is port 0x70, length 1.
    expect(coalescedIntersection({ offset: 0n, size: 1n }, 0x70n, 1n, 0n)).toEqual({ addr: 0x70n, len: 1n });
    // A FlatRange showing region offsets [0x20, 0x60) at 0x1000 meets [0x10, 0x30) in [0x1000, 0x1010).
    expect(coalescedIntersection({ offset: 0x10n, size: 0x20n }, 0x1000n, 0x40n, 0x20n)).toEqual({
      addr: 0x1000n,
      len: 0x10n,
    });
    expect(coalescedIntersection({ offset: 0x80n, size: 0x20n }, 0x1000n, 0x40n, 0x20n)).toBeNull();
    expect(coalescedIntersection({ offset: 0x60n, size: 0x20n }, 0x1000n, 0x40n, 0x20n)).toBeNull();
  });
});
