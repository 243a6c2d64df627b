import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { KVM_CAP, KvmIoListener, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

// QEMU aborts when a KVM ioctl fails; a library reports the error instead, keeps its slot
// table equal to what the kernel holds, and redoes the refused work at the next commit's
// `begin`: the next commit recovers.

function setup(caps: Record<number, number> = {}) {
  const host = new StandaloneHost();
  const kvm = new RecordingBackend();
  for (const [cap, value] of Object.entries(caps)) kvm.caps.set(Number(cap), value);
  const listener = new KvmMemoryListener(kvm, { dirtyLogMask: (mr) => mr.dirtyLogMask }, { ioeventfds: true });
  const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
  return { host, kvm, listener, ram };
}

const inSync = { missingSlots: [], staleSlots: [], flagUpdates: 0, ioeventfds: 0 };

describe("recovery after refused KVM_SET_USER_MEMORY_REGION", () => {
  it("a refused create leaves the chunk missing; the next begin creates it", () => {
    const { kvm, listener, ram } = setup();
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.regionAdd(section(ram, 0x10000n, 0x2000n))).toThrow(expect.objectContaining({ code: "EIO" }));
    expect(listener.slots).toEqual([]);
    expect(listener.hasMemory(0x10000n, 0x2000n)).toBe(false);
    expect(listener.outOfSync.missingSlots).toEqual([{ start: 0x10000n, size: 0x2000n }]);
    listener.begin();
    expect(kvm.log).toEqual(["0 10000+2000 f0"]);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("a chunk that leaves the view while missing is forgotten without a kernel call", () => {
    const { kvm, listener, ram } = setup();
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.regionAdd(section(ram, 0x10000n, 0x2000n))).toThrow();
    listener.regionDel(section(ram, 0x10000n, 0x2000n));
    listener.begin();
    expect(kvm.log).toEqual([]);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("a refused chunk of a split section does not stop the others (s390x chunks)", () => {
    const host = new StandaloneHost();
    const kvm = new RecordingBackend();
    const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { maxSlotSize: 0x2000n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.regionAdd(section(ram, 0n, 0x6000n))).toThrow();
    expect(kvm.log).toEqual(["0 2000+2000 f0", "1 4000+2000 f0"]);
    listener.begin();
    expect(kvm.log.at(-1)).toBe("2 0+2000 f0");
    expect(listener.hasMemory(0n, 0x6000n)).toBe(true);
  });

  it("a refused delete keeps the slot in the table as stale; the next begin deletes it before anything else", () => {
    const { kvm, listener, ram } = setup();
    listener.regionAdd(section(ram, 0x10000n, 0x2000n));
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.regionDel(section(ram, 0x10000n, 0x2000n))).toThrow();
    expect(listener.slots.map((s) => s.id)).toEqual([0]);
    expect(listener.hasMemory(0x10000n, 0x2000n)).toBe(false);
    expect(listener.outOfSync.staleSlots.map((s) => s.start)).toEqual([0x10000n]);
    // The view puts RAM back at the same place: the kernel still holds the stale slot, so
    // the new one overlaps and (with a real kernel) is refused until the stale one is gone.
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.regionAdd(section(ram, 0x10000n, 0x2000n))).toThrow();
    listener.begin();
    expect(kvm.log).toEqual(["0 10000+2000 f0", "0 10000+0 f0", "0 10000+2000 f0"]);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("a refused flag update keeps the old flags and is resent; a later update back to them cancels it", () => {
    const { kvm, listener, ram } = setup();
    listener.regionAdd(section(ram, 0x10000n, 0x2000n));
    ram.setLog(true);
    kvm.refuse.setUserMemoryRegion = 1;
    expect(() => listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1)).toThrow();
    expect(listener.slots[0]!.flags).toBe(0);
    expect(listener.outOfSync.flagUpdates).toBe(1);
    listener.begin();
    expect(listener.slots[0]!.flags).toBe(1);
    expect(kvm.log).toEqual(["0 10000+2000 f0", "0 10000+2000 f1"]);

    kvm.refuse.setUserMemoryRegion = 1;
    ram.setLog(false);
    expect(() => listener.logStop(section(ram, 0x10000n, 0x2000n), 1, 0)).toThrow();
    ram.setLog(true);
    listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1);
    listener.begin();
    expect(kvm.log).toHaveLength(2);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("READONLY flip: delete accepted, re-create refused → the chunk is missing, then re-created with the new flags", () => {
    const { kvm, listener, ram } = setup();
    listener.regionAdd(section(ram, 0x10000n, 0x2000n));
    ram.setReadonly(true);
    ram.setLog(true);
    // Refuse the second call only: skip one by letting the delete through first.
    const original = kvm.setUserMemoryRegion.bind(kvm);
    let calls = 0;
    kvm.setUserMemoryRegion = (region) => {
      if (++calls === 2) kvm.refuse.setUserMemoryRegion = 1;
      original(region);
    };
    expect(() => listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1)).toThrow();
    expect(listener.slots).toEqual([]);
    expect(listener.outOfSync.missingSlots).toEqual([{ start: 0x10000n, size: 0x2000n }]);
    listener.begin();
    expect(kvm.log).toEqual(["0 10000+2000 f0", "0 10000+0 f3", "0 10000+2000 f3"]);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("no free slot (ENOSPC) leaves the chunk missing until a slot frees", () => {
    const { kvm, listener, ram } = setup({ [KVM_CAP.NR_MEMSLOTS]: 1 });
    listener.regionAdd(section(ram, 0n, 0x1000n));
    expect(() => listener.regionAdd(section(ram, 0x1000n, 0x1000n, 0x1000n))).toThrow(
      expect.objectContaining({ code: "ENOSPC" }),
    );
    expect(() => listener.begin()).toThrow(expect.objectContaining({ code: "ENOSPC" }));
    listener.regionDel(section(ram, 0n, 0x1000n));
    listener.begin();
    expect(kvm.log).toEqual(["0 0+1000 f0", "0 0+0 f0", "0 1000+1000 f0"]);
    expect(listener.outOfSync).toEqual(inSync);
  });
});

describe("recovery after refused KVM_IOEVENTFD", () => {
  const notifier = { id: 7, signal() {} };
  const at = (addr: bigint) => ({ ...section(null as never, addr, 4n), mr: null });

  it("a refused assign is redone after the next ioeventfd call (ioeventfd-only commits have no begin)", () => {
    const { kvm, listener } = setup();
    kvm.refuse.ioeventfd = 1;
    expect(() => listener.eventfdAdd!(at(0xfe000000n), false, 0n, notifier)).toThrow();
    expect(listener.outOfSync.ioeventfds).toBe(1);
    listener.eventfdAdd!(at(0xfe001000n), false, 0n, notifier);
    expect(kvm.ioeventfds.map((r) => r.addr)).toEqual([0xfe001000n, 0xfe000000n]);
    expect(listener.outOfSync.ioeventfds).toBe(0);
  });

  it("a deassign of what the kernel refused to assign cancels it without a call, and the reverse", () => {
    const { kvm, listener } = setup();
    kvm.refuse.ioeventfd = 1;
    expect(() => listener.eventfdAdd!(at(0xfe000000n), true, 1n, notifier)).toThrow();
    listener.eventfdDel!(at(0xfe000000n), true, 1n, notifier);
    expect(kvm.ioeventfds).toEqual([]);

    listener.eventfdAdd!(at(0xfe000000n), true, 1n, notifier);
    kvm.refuse.ioeventfd = 1;
    expect(() => listener.eventfdDel!(at(0xfe000000n), true, 1n, notifier)).toThrow();
    listener.eventfdAdd!(at(0xfe000000n), true, 1n, notifier);
    expect(kvm.ioeventfds).toHaveLength(1);
    expect(listener.outOfSync).toEqual(inSync);
  });

  it("the PIO listener redoes refused calls at begin", () => {
    const kvm = new RecordingBackend();
    const io = new KvmIoListener(kvm);
    kvm.refuse.ioeventfd = 1;
    expect(() => io.eventfdAdd(at(0x604n), false, 0n, notifier)).toThrow();
    expect(io.pending).toBe(1);
    kvm.refuse.ioeventfd = 1;
    expect(() => io.begin()).toThrow();
    io.begin();
    expect(kvm.ioeventfds).toEqual([expect.objectContaining({ addr: 0x604n, flags: 2 })]);
    expect(io.pending).toBe(0);
  });
});
