import {
  KVM_IOEVENTFD_FLAG_DATAMATCH as DATAMATCH,
  KVM_IOEVENTFD_FLAG_PIO as PIO,
  KVM_MEM_READONLY as READONLY,
} from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { PAGE, region } from "./helpers.js";

describe("simulated guest accesses", () => {
  it("a write to a writable slot lands in the host memory behind it", () => {
    const kvm = new MockKvm();
    const block = kvm.ramAllocator().allocate("pc.ram", 0x4000n);
    kvm.setUserMemoryRegion(region(0, 0x10000n, 0x2000n, 0, block.hostAddr + 0x1000n));
    expect(kvm.guestWrite(0x10004n, 0x1234_5678n, 4)).toEqual({ kind: "ram", slot: 0 });
    expect([...block.bytes().subarray(0x1004, 0x1008)]).toEqual([0x78, 0x56, 0x34, 0x12]);
    expect([...kvm.guestRead(0x10004n, 4)!]).toEqual([0x78, 0x56, 0x34, 0x12]);
  });

  it("host memory written by userspace is what the guest reads", () => {
    const kvm = new MockKvm();
    const block = kvm.ramAllocator().allocate("rom", 0x1000n);
    block.bytes()[0x10] = 0xea;
    kvm.setUserMemoryRegion(region(0, 0xf0000n, 0x1000n, READONLY, block.hostAddr));
    expect([...kvm.guestRead(0xf0010n, 1)!]).toEqual([0xea]);
  });

  it("memory no allocator registered behaves like anonymous memory, zero until written", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 0x2000n));
    expect([...kvm.guestRead(0xffen, 4)!]).toEqual([0, 0, 0, 0]);
    kvm.guestWrite(0xffen, new Uint8Array([1, 2, 3, 4]));
    expect([...kvm.guestRead(0xffen, 4)!]).toEqual([1, 2, 3, 4]);
  });

  it("a released block no longer backs guest accesses", () => {
    const kvm = new MockKvm();
    const block = kvm.ramAllocator().allocate("ram", 0x1000n);
    kvm.setUserMemoryRegion(region(0, 0n, 0x1000n, 0, block.hostAddr));
    kvm.guestWrite(0n, 7n, 1);
    block.release();
    expect([...kvm.guestRead(0n, 1)!]).toEqual([0]);
  });

  it("a write to a read-only slot is an MMIO exit and changes nothing", () => {
    const kvm = new MockKvm();
    const block = kvm.ramAllocator().allocate("rom", 0x1000n);
    kvm.setUserMemoryRegion(region(0, 0xf0000n, 0x1000n, READONLY, block.hostAddr));
    expect(kvm.guestWrite(0xf0000n, 0xffn, 1)).toEqual({ kind: "mmio-exit", reason: "readonly" });
    expect(block.bytes()[0]).toBe(0);
  });

  it("a write where no slot is mapped is an MMIO exit; a read there returns null", () => {
    const kvm = new MockKvm();
    expect(kvm.guestWrite(0xfee00000n, 1n, 4)).toEqual({ kind: "mmio-exit", reason: "unbacked" });
    expect(kvm.guestRead(0xfee00000n, 4)).toBeNull();
  });

  it("ioeventfd_in_range: an MMIO write hits an ioeventfd at its exact address, length and data", () => {
    const kvm = new MockKvm();
    const wild = kvm.createEventNotifier();
    const match = kvm.createEventNotifier();
    const any = kvm.createEventNotifier();
    kvm.ioeventfd({ notifier: wild, addr: 0xd0100n, len: 4, flags: 0, datamatch: 0n });
    kvm.ioeventfd({ notifier: match, addr: 0xd0200n, len: 1, flags: DATAMATCH, datamatch: 0x41n });
    kvm.ioeventfd({ notifier: any, addr: 0xd0300n, len: 0, flags: 0, datamatch: 0n });
    expect(kvm.guestWrite(0xd0100n, 5n, 4)).toEqual({ kind: "ioeventfd", notifier: wild });
    expect(kvm.guestWrite(0xd0100n, 5n, 2).kind).toBe("mmio-exit");
    expect(kvm.guestWrite(0xd0101n, 5n, 1).kind).toBe("mmio-exit");
    expect(kvm.guestWrite(0xd0200n, 0x41n, 1).kind).toBe("ioeventfd");
    expect(kvm.guestWrite(0xd0200n, 0x42n, 1).kind).toBe("mmio-exit");
    expect(kvm.guestWrite(0xd0300n, 1n, 1).kind).toBe("ioeventfd");
    expect(kvm.guestWrite(0xd0300n, 1n, 8).kind).toBe("ioeventfd");
    expect([wild.count, match.count, any.count]).toEqual([1, 1, 2]);
    expect(any.read()).toBe(2n);
    expect(any.read()).toBe(0n);
  });

  it("writes to a read-only slot go through the MMIO bus and can hit an ioeventfd there", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    kvm.setUserMemoryRegion(region(0, 0xf0000n, PAGE, READONLY));
    kvm.ioeventfd({ notifier: n, addr: 0xf0000n, len: 2, flags: 0, datamatch: 0n });
    expect(kvm.guestWrite(0xf0000n, 1n, 2).kind).toBe("ioeventfd");
  });

  it("a write to a writable slot never reaches an ioeventfd at the same address", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    kvm.ioeventfd({ notifier: n, addr: 0x10n, len: 4, flags: 0, datamatch: 0n });
    expect(kvm.guestWrite(0x10n, 1n, 4).kind).toBe("ram");
    expect(n.count).toBe(0);
  });

  it("a PIO write hits the PIO bus only", () => {
    const kvm = new MockKvm();
    const pio = kvm.createEventNotifier();
    const mmio = kvm.createEventNotifier();
    kvm.ioeventfd({ notifier: pio, addr: 0xc110n, len: 2, flags: PIO | DATAMATCH, datamatch: 3n });
    kvm.ioeventfd({ notifier: mmio, addr: 0xc120n, len: 2, flags: 0, datamatch: 0n });
    expect(kvm.guestPioWrite(0xc110, 3, 2)).toEqual({ kind: "ioeventfd", notifier: pio });
    expect(kvm.guestPioWrite(0xc110, 4, 2)).toEqual({ kind: "pio-exit" });
    expect(kvm.guestPioWrite(0xc120, 4, 2)).toEqual({ kind: "pio-exit" });
    expect([pio.count, mmio.count]).toEqual([1, 0]);
  });

  it("userspace signal() counts like an eventfd write", () => {
    const n = new MockKvm().createEventNotifier();
    n.signal();
    n.signal();
    expect(n.read()).toBe(2n);
  });

  it("a write to address space 1 uses that space's slots", () => {
    const kvm = new MockKvm({ addressSpaces: 2 });
    kvm.setUserMemoryRegion(region(0x1_0000, 0x30000n, PAGE));
    expect(kvm.guestWrite(0x30000n, 1n, 1, 1).kind).toBe("ram");
    expect(kvm.guestWrite(0x30000n, 1n, 1, 0).kind).toBe("mmio-exit");
  });

  it("bad accesses are usage errors: straddling a slot edge, bad sizes, values too wide, bad ports", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0x1000n, PAGE));
    kvm.setUserMemoryRegion(region(1, 0x2000n, PAGE));
    const usage = expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT" });
    expect(() => kvm.guestWrite(0xffen, 1n, 4)).toThrow(usage);
    expect(() => kvm.guestWrite(0x1ffen, 1n, 4)).toThrow(usage);
    expect(() => kvm.guestWrite(0x800n, new Uint8Array(0x1000))).toThrow(usage);
    expect(() => kvm.guestWrite(0x1000n, 1n, 3)).toThrow(usage);
    expect(() => kvm.guestWrite(0x1000n, 0x100n, 1)).toThrow(usage);
    expect(() => kvm.guestWrite(0x1000n, new Uint8Array(0))).toThrow(usage);
    expect(() => kvm.guestWrite(0x1000n, 1n, 1, 1)).toThrow(usage);
    expect(() => kvm.guestPioWrite(0x10000, 1, 1)).toThrow(usage);
    expect(() => kvm.guestPioWrite(0x60, 1, 8)).toThrow(usage);
    expect(() => kvm.guestRead(0xfffn, 2)).toThrow(usage);
  });
});
