import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion, type MemoryRegionOps, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem, UNASSIGNED_IO_OPS } from "../../src/index.js";

/** A device that logs `w off=value` and `r off`. */
function device(log: string[], name: string): MemoryRegionOps {
  return {
    read: (offset) => {
      log.push(`${name} r ${offset.toString(16)}`);
      return 0n;
    },
    write: (offset, value) => {
      log.push(`${name} w ${offset.toString(16)}=${value.toString(16)}`);
    },
  };
}

/** QEMU's PC RTC (mc146818rtc) on the mock kernel: `rtc` (ports 0x70-0x71) flush-coalesced, `rtc-index` coalesced. */
function rtcMachine() {
  const kernel = new MockKvm();
  const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
  const log: string[] = [];
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const hpet = new MemoryRegion(sys, { kind: "io", name: "hpet", size: 0x400n, ops: device(log, "hpet") });
  system.addSubregion(0xfed00000n, hpet);
  const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x10000n, ops: UNASSIGNED_IO_OPS });
  const rtc = new MemoryRegion(sys, { kind: "io", name: "rtc", size: 2n, ops: device(log, "rtc") });
  const index = new MemoryRegion(sys, { kind: "io", name: "rtc-index", size: 1n, ops: device(log, "rtc-index") });
  rtc.addSubregion(0n, index);
  io.addSubregion(0x70n, rtc);
  const memory = sys.createAddressSpace("memory", system);
  const pio = sys.createAddressSpace("I/O", io);
  const kvm = attachKvm(sys, kernel, { memory, io: pio });
  rtc.setFlushCoalesced();
  index.addCoalescing(0n, 1n);
  return { kernel, sys, log, system, hpet, rtc, index, memory, pio, kvm };
}

describe("coalesced ranges end to end on the mock kernel (memory_region_add_coalescing, kvm_coalesce_mmio_region/kvm_coalesce_pio_add)", () => {
  it("the PC RTC: rtc-index becomes a coalesced PIO zone at port 0x70, length 1", () => {
    const m = rtcMachine();
    expect(m.kernel.coalescedZones()).toEqual([{ addr: 0x70n, size: 1, pio: true }]);
  });

  it("an `out` to the zone waits in the ring; reading rtc (flush-coalesced) replays it first", () => {
    const m = rtcMachine();
    expect(m.kernel.guestPioWrite(0x70, 0x8f, 1)).toEqual({ kind: "coalesced" });
    expect(m.log).toEqual([]);
    m.pio.read(0x71n, new Uint8Array(1));
    expect(m.log).toEqual(["rtc-index w 0=8f", "rtc r 1"]);
  });

  it("every transaction begin flushes the ring first", () => {
    const m = rtcMachine();
    m.kernel.guestPioWrite(0x70, 0x0a, 1);
    m.sys.begin();
    expect(m.log).toEqual(["rtc-index w 0=a"]);
    m.sys.commit();
  });

  it("the zone follows the view: disabling rtc deletes it (before region_del), enabling adds it again", () => {
    const m = rtcMachine();
    m.rtc.setEnabled(false);
    expect(m.kernel.coalescedZones()).toEqual([]);
    m.rtc.setEnabled(true);
    expect(m.kernel.coalescedZones()).toEqual([{ addr: 0x70n, size: 1, pio: true }]);
    const calls = m.kernel.calls.filter((c) => c.method.includes("Coalesced")).map((c) => c.method);
    expect(calls).toEqual(["registerCoalescedMmio", "unregisterCoalescedMmio", "registerCoalescedMmio"]);
  });

  it("clear_coalescing flushes, then unregisters the zone at once", () => {
    const m = rtcMachine();
    m.kernel.guestPioWrite(0x70, 0x01, 1);
    m.index.clearCoalescing();
    expect(m.log).toEqual(["rtc-index w 0=1"]);
    expect(m.kernel.coalescedZones()).toEqual([]);
    expect(m.kernel.guestPioWrite(0x70, 0x02, 1)).toEqual({ kind: "pio-exit" });
  });

  it("MMIO: a coalesced HPET range becomes an MMIO zone; flushCoalescedMmio() replays into `memory`", () => {
    const m = rtcMachine();
    m.hpet.addCoalescing(0x100n, 0x10n);
    expect(m.kernel.coalescedZones()).toContainEqual({ addr: 0xfed00100n, size: 0x10, pio: false });
    expect(m.kernel.guestWrite(0xfed00104n, 0x1234_5678, 4)).toEqual({ kind: "coalesced" });
    m.sys.flushCoalescedMmio();
    expect(m.log).toEqual(["hpet w 104=12345678"]);
  });

  it("listeners hear coalesced_io_add at once and in Forward order; coalesced_io_del in Reverse", () => {
    const m = rtcMachine();
    const seen: string[] = [];
    for (const name of ["A", "B"]) {
      m.sys.registerListener(
        {
          name,
          coalescedIoAdd: (_s, addr, len) => void seen.push(`${name}+${addr.toString(16)}/${len}`),
          coalescedIoDel: (_s, addr, len) => void seen.push(`${name}-${addr.toString(16)}/${len}`),
        },
        m.memory,
      );
    }
    m.hpet.addCoalescing(0n, 4n);
    m.hpet.clearCoalescing();
    expect(seen).toEqual(["A+fed00000/4", "B+fed00000/4", "B-fed00000/4", "A-fed00000/4"]);
    expect(m.sys.depth).toBe(0);
  });

  it("a coalesced source must be well formed and name this system's spaces", () => {
    const m = rtcMachine();
    const other = new MemorySystem();
    const foreign = other.createAddressSpace(
      "memory",
      new MemoryRegion(other, { kind: "container", name: "x", size: 0x1000n }),
    );
    const take = () => [];
    expect(() => m.sys.setCoalescedMmioSource({ take: 1 } as never)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => m.sys.setCoalescedMmioSource({ take, memory: foreign, io: null })).toThrow(
      expect.objectContaining({ code: "E_UNKNOWN_ADDRESS_SPACE" }),
    );
    // Still the kernel's ring: a held write is replayed.
    m.kernel.guestPioWrite(0x70, 0x05, 1);
    m.sys.flushCoalescedMmio();
    expect(m.log).toEqual(["rtc-index w 0=5"]);
    m.sys.setCoalescedMmioSource(null);
    m.kernel.guestPioWrite(0x70, 0x06, 1);
    m.sys.flushCoalescedMmio();
    expect(m.log).toHaveLength(1);
  });
});

describe("coalescingChanged is the regions' hook, not a way to fake ranges", () => {
  it("a range the region does not have (or still has) is refused and nobody hears of it", () => {
    const m = rtcMachine();
    const seen: string[] = [];
    m.sys.registerListener(
      { coalescedIoAdd: () => void seen.push("add"), coalescedIoDel: () => void seen.push("del") },
      m.pio,
    );
    expect(() => m.sys.coalescingChanged(m.index, { offset: 0n, size: 1n }, true)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => m.sys.coalescingChanged(m.index, m.index.coalesced[0]!, false)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(seen).toEqual([]);
    expect(m.kernel.coalescedZones()).toEqual([{ addr: 0x70n, size: 1, pio: true }]);
  });
});
