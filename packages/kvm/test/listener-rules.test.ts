import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { attachKvm, KvmError, KvmIoListener, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

function setup() {
  const host = new StandaloneHost();
  const kvm = new RecordingBackend();
  const listener = new KvmMemoryListener(kvm, { dirtyLogMask: (mr) => mr.dirtyLogMask });
  return { host, kvm, listener };
}

describe("kvm_set_user_memory_region", () => {
  it("READONLY changing on a live slot deletes it first (size 0), then re-creates it", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x2000n });
    listener.regionAdd(section(ram, 0x10000n, 0x2000n));
    // The range stays equal when only the region's READONLY changes under a read-only alias
    // (a quirk of `kvm_set_phys_mem`), so the next flag update is the first to send the new READONLY.
    ram.setReadonly(true);
    ram.setLog(true);
    listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1);
    expect(kvm.log).toEqual(["0 10000+2000 f0", "0 10000+0 f3", "0 10000+2000 f3"]);
  });

  it("a LOG_DIRTY_PAGES-only change is rewritten in place, without a delete", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x2000n });
    listener.regionAdd(section(ram, 0x10000n, 0x2000n));
    ram.setLog(true);
    listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1);
    expect(kvm.log).toEqual(["0 10000+2000 f0", "0 10000+2000 f1"]);
  });
});

describe("kvm_accel_has_memory", () => {
  it("is true only for a slot with exactly this start and size", () => {
    const { host, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x4000n });
    listener.regionAdd(section(ram, 0x10000n, 0x4000n));
    expect(listener.hasMemory(0x10000n, 0x4000n)).toBe(true);
    expect(listener.hasMemory(0x10000n, 0x2000n)).toBe(false);
    expect(listener.hasMemory(0x11000n, 0x3000n)).toBe(false);
    listener.regionDel(section(ram, 0x10000n, 0x4000n));
    expect(listener.hasMemory(0x10000n, 0x4000n)).toBe(false);
  });
});

describe("PIO ioeventfds (kvm-io listener; kvm_mem_ioeventfd_add/kvm_io_ioeventfd_add)", () => {
  it("the port and the data are taken as 16 bits, with the PIO flag; del deassigns", () => {
    const kvm = new RecordingBackend();
    const io = new KvmIoListener(kvm);
    const notifier = { id: 7, signal() {} };
    const pio = { ...section(null as never, 0x1_0cf8n, 2n), mr: null };
    io.eventfdAdd(pio, true, 0x1_2345n, notifier);
    io.eventfdDel(pio, true, 0x1_2345n, notifier);
    io.eventfdAdd({ ...pio, size: 0n }, false, 0x99n, notifier);
    expect(kvm.ioeventfds).toEqual([
      { addr: 0xcf8n, len: 2, datamatch: 0x2345n, notifier, flags: 3 },
      { addr: 0xcf8n, len: 2, datamatch: 0x2345n, notifier, flags: 7 },
      { addr: 0xcf8n, len: 0, datamatch: 0n, notifier, flags: 2 },
    ]);
  });
});

describe("adjust_ioeventfd_endianness: a big-endian guest on a little-endian host (kvm_mem_ioeventfd_add/kvm_io_ioeventfd_add)", () => {
  const notifier = { id: 3, signal() {} };
  const at = (addr: bigint, size: bigint) => ({ ...section(null as never, addr, size), mr: null });

  it("MMIO: 2- and 4-byte data are byte-swapped after the cut to 32 bits; 1- and 8-byte data are not", () => {
    const kvm = new RecordingBackend();
    const be = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { ioeventfds: true, targetBigEndian: true });
    be.eventfdAdd!(at(0x1000n, 4n), true, 0x99_1122_3344n, notifier);
    be.eventfdAdd!(at(0x2000n, 2n), true, 0x1234n, notifier);
    be.eventfdAdd!(at(0x3000n, 1n), true, 0x12n, notifier);
    be.eventfdAdd!(at(0x4000n, 8n), true, 0x1_0000_1234n, notifier);
    expect(kvm.ioeventfds.map((r) => r.datamatch)).toEqual([0x4433_2211n, 0x3412n, 0x12n, 0x1234n]);
  });

  it("PIO: data cut to 16 bits first, so a 4-byte match of 0x1234 becomes 0x34120000", () => {
    const kvm = new RecordingBackend();
    const io = new KvmIoListener(kvm, { targetBigEndian: true });
    io.eventfdAdd(at(0x604n, 4n), true, 0xab_1234n, notifier);
    io.eventfdAdd(at(0x608n, 2n), false, 0n, notifier);
    expect(kvm.ioeventfds.map((r) => r.datamatch)).toEqual([0x3412_0000n, 0n]);
  });

  it("a little-endian guest is left alone, and attachKvm takes the order from the system", () => {
    const kvm = new RecordingBackend();
    const registered: { eventfdAdd?: unknown }[] = [];
    const system = {
      dirtyLogMask: () => 0,
      registerListener: (l: object) => void registered.push(l),
      targetBigEndian: true,
    };
    const kvmAttached = attachKvm(system, kvm, { memory: "memory", io: "io" });
    kvmAttached.memory.eventfdAdd!(at(0x1000n, 2n), true, 0x1234n, notifier);
    kvmAttached.io!.eventfdAdd(at(0x60n, 2n), true, 0x1234n, notifier);
    const le = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { ioeventfds: true });
    le.eventfdAdd!(at(0x2000n, 2n), true, 0x1234n, notifier);
    expect(kvm.ioeventfds.map((r) => r.datamatch)).toEqual([0x3412n, 0x3412n, 0x1234n]);
    expect(registered).toHaveLength(3);
  });
});

describe("limits: bad options are refused (kvm_set_max_memslot_size)", () => {
  it("maxSlotSize must be a positive multiple of the host page size (kvm_set_max_memslot_size asserts it)", () => {
    const kvm = new RecordingBackend();
    const make = (maxSlotSize: bigint) => () => new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { maxSlotSize });
    for (const bad of [0n, -0x1000n, 0x1800n]) {
      expect(make(bad)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
    }
    expect(make(0x2000n)).not.toThrow();
  });
});

describe("a failed ioctl leaves the slot table as the kernel has it (kvm_set_user_memory_region)", () => {
  class FailingBackend extends RecordingBackend {
    failAt = -1;
    override setUserMemoryRegion(region: Parameters<RecordingBackend["setUserMemoryRegion"]>[0]): void {
      if (this.regions.length === this.failAt) throw new KvmError("EIO", "KVM_SET_USER_MEMORY_REGION", "injected");
      super.setUserMemoryRegion(region);
    }
  }

  for (const [failAt, expected] of [
    [1, [{ id: 0, flags: 0 }]],
    [2, []],
  ] as const) {
    it(`READONLY re-create failing at its call ${failAt}: ${expected.length === 0 ? "the slot is gone" : "the slot keeps its old flags"}`, () => {
      const host = new StandaloneHost();
      const kvm = new FailingBackend();
      const listener = new KvmMemoryListener(kvm, { dirtyLogMask: (mr) => mr.dirtyLogMask });
      const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x2000n });
      listener.regionAdd(section(ram, 0x10000n, 0x2000n));
      ram.setReadonly(true);
      ram.setLog(true);
      kvm.failAt = failAt;
      expect(() => listener.logStart(section(ram, 0x10000n, 0x2000n), 0, 1)).toThrow(KvmError);
      expect(listener.slots.map((s) => ({ id: s.id, flags: s.flags }))).toEqual(expected);
    });
  }
});
