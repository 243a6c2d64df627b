import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { expectErrno, PAGE, region } from "./helpers.js";

const mmio = (addr: bigint, size: number) => ({ addr, size, pio: false });

describe("KVM_(UN)REGISTER_COALESCED_MMIO (virt/kvm/coalesced_mmio.c)", () => {
  it("a write inside a zone where no slot is waits in the ring, and is drained oldest first", () => {
    const kvm = new MockKvm();
    kvm.registerCoalescedMmio(mmio(0xfed00000n, 0x400));
    expect(kvm.guestWrite(0xfed00010n, 0x11, 1)).toEqual({ kind: "coalesced" });
    expect(kvm.guestWrite(0xfed00020n, 0x2233, 2)).toEqual({ kind: "coalesced" });
    expect(kvm.takeCoalescedWrites()).toEqual([
      { physAddr: 0xfed00010n, data: Uint8Array.of(0x11), pio: false },
      { physAddr: 0xfed00020n, data: Uint8Array.of(0x33, 0x22), pio: false },
    ]);
    expect(kvm.takeCoalescedWrites()).toEqual([]);
  });

  it("only a write wholly inside a zone is held; reads, slots and matching ioeventfds come first", () => {
    const kvm = new MockKvm();
    kvm.registerCoalescedMmio(mmio(0x1000n, 0x10));
    expect(kvm.guestWrite(0x100en, 0x1234_5678, 4)).toEqual({ kind: "mmio-exit", reason: "unbacked" });
    const notifier = kvm.createEventNotifier();
    kvm.ioeventfd({ addr: 0x1004n, len: 4, datamatch: 0n, flags: 0, notifier });
    expect(kvm.guestWrite(0x1004n, 1, 4)).toEqual({ kind: "ioeventfd", notifier });
    kvm.setUserMemoryRegion(region(0, 0x1000n, PAGE));
    expect(kvm.guestWrite(0x1000n, 1, 1)).toEqual({ kind: "ram", slot: 0 });
    expect(kvm.takeCoalescedWrites()).toEqual([]);
  });

  it("the ring holds 169 writes (170 entries, one kept free); the next write exits", () => {
    const kvm = new MockKvm();
    kvm.registerCoalescedMmio(mmio(0x1000n, 0x10));
    for (let i = 0; i < 169; i++) expect(kvm.guestWrite(0x1000n, i & 0xff, 1).kind).toBe("coalesced");
    expect(kvm.guestWrite(0x1000n, 0, 1)).toEqual({ kind: "mmio-exit", reason: "unbacked" });
    expect(kvm.takeCoalescedWrites()).toHaveLength(169);
    expect(kvm.guestWrite(0x1000n, 0, 1).kind).toBe("coalesced");
  });

  it("kernels before 6.11 read the ring as full after 85 writes while `first` is low (unsigned room check)", () => {
    const kvm = new MockKvm({ coalescedRingModuloBug: true });
    kvm.registerCoalescedMmio(mmio(0x1000n, 0x10));
    const fill = () => {
      let held = 0;
      while (kvm.guestWrite(0x1000n, held & 0xff, 1).kind === "coalesced") held++;
      return held;
    };
    expect(fill()).toBe(85);
    expect(kvm.takeCoalescedWrites()).toHaveLength(85);
    // Now first = 85: the ring runs to its end and wraps, and 169 writes fit.
    expect(fill()).toBe(169);
  });

  it("PIO zones hold `out`s on the PIO bus only", () => {
    const kvm = new MockKvm();
    kvm.registerCoalescedMmio({ addr: 0x70n, size: 1, pio: true });
    expect(kvm.guestPioWrite(0x70, 0x8f, 1)).toEqual({ kind: "coalesced" });
    expect(kvm.guestPioWrite(0x71, 0, 1)).toEqual({ kind: "pio-exit" });
    expect(kvm.guestWrite(0x70n, 0, 1).kind).toBe("mmio-exit");
    expect(kvm.takeCoalescedWrites()).toEqual([{ physAddr: 0x70n, data: Uint8Array.of(0x8f), pio: true }]);
  });

  it("unregister removes every zone of the bus that holds the whole range; a bigger range removes nothing", () => {
    const kvm = new MockKvm();
    kvm.registerCoalescedMmio(mmio(0x1000n, 0x100));
    kvm.registerCoalescedMmio(mmio(0x1000n, 0x100));
    kvm.registerCoalescedMmio({ addr: 0x1000n, size: 0x100, pio: true });
    kvm.unregisterCoalescedMmio(mmio(0x0n, 0x10000));
    expect(kvm.coalescedZones()).toHaveLength(3);
    kvm.unregisterCoalescedMmio(mmio(0x1010n, 0x10));
    expect(kvm.coalescedZones()).toEqual([{ addr: 0x1000n, size: 0x100, pio: true }]);
  });

  it("a bus holds 1000 zones: the next is ENOSPC and changes nothing", () => {
    const kvm = new MockKvm();
    for (let i = 0; i < 1000; i++) kvm.registerCoalescedMmio(mmio(BigInt(i) * 0x10n, 0x10));
    expectErrno(() => kvm.registerCoalescedMmio(mmio(0x100000n, 0x10)), "ENOSPC");
    expect(kvm.coalescedZones()).toHaveLength(1000);
    kvm.registerCoalescedMmio({ addr: 0n, size: 1, pio: true });
  });

  it("calls are recorded, can be made to fail, and bad zones are usage errors", () => {
    const kvm = new MockKvm();
    kvm.failNext("registerCoalescedMmio", "EIO");
    expectErrno(() => kvm.registerCoalescedMmio(mmio(0x1000n, 4)), "EIO");
    expect(kvm.coalescedZones()).toEqual([]);
    expect(kvm.calls.map((c) => [c.method, c.errno])).toEqual([["registerCoalescedMmio", "EIO"]]);
    expect(() => kvm.registerCoalescedMmio({ addr: -1n, size: 4, pio: false })).toThrow(
      expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT", path: "zone.addr" }),
    );
    expect(() => kvm.registerCoalescedMmio({ addr: 0n, size: 4, pio: 1 as unknown as boolean })).toThrow(
      expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT", path: "zone.pio" }),
    );
  });
});
