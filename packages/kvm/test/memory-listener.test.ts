import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { KVM_CAP, KvmError, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

function setup(caps: Record<number, number> = {}) {
  const host = new StandaloneHost();
  const kvm = new RecordingBackend();
  for (const [cap, value] of Object.entries(caps)) kvm.caps.set(Number(cap), value);
  const listener = new KvmMemoryListener(kvm, { dirtyLogMask: (mr) => mr.dirtyLogMask });
  return { host, kvm, listener };
}

describe("which sections become memslots (kvm_set_phys_mem)", () => {
  it("RAM, ROM and romd ROM devices do; I/O regions never do", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
    const rom = new MemoryRegion(host, { kind: "rom", name: "rom", size: 0x10000n });
    const flash = new MemoryRegion(host, { kind: "rom-device", name: "flash", size: 0x10000n, ops: {} });
    const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x10000n });
    listener.regionAdd(section(ram, 0n, 0x10000n));
    listener.regionAdd(section(rom, 0x10000n, 0x10000n));
    listener.regionAdd(section(flash, 0x20000n, 0x10000n));
    listener.regionAdd(section(io, 0x30000n, 0x10000n));
    expect(kvm.log).toEqual(["0 0+10000 f0", "1 10000+10000 f2", "2 20000+10000 f2"]);
  });

  it("page trimming: [0x1000800, +0x3000) becomes slot 0x1001000 + 0x2000", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000000n });
    listener.regionAdd(section(ram, 0x1000800n, 0x3000n, 0x800n));
    expect(kvm.log).toEqual(["0 1001000+2000 f0"]);
    expect(kvm.regions[0]!.userspaceAddr).toBe(ram.ramBlock!.hostAddr + 0x1000n);
    listener.regionAdd(section(ram, 0x2000800n, 0x800n, 0x800n));
    expect(kvm.log).toHaveLength(1);
  });

  it("flags come from the region, not the section: a read-only alias of RAM gets a writable slot", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "pc.ram", size: 0x100000n });
    listener.regionAdd(section(ram, 0xc0000n, 0xc000n, 0xc0000n, true));
    expect(kvm.log).toEqual(["0 c0000+c000 f0"]);
  });

  it("without KVM_CAP_READONLY_MEM, ROM gets a writable slot and ROM devices none", () => {
    const { host, kvm, listener } = setup({ [KVM_CAP.READONLY_MEM]: 0 });
    const rom = new MemoryRegion(host, { kind: "rom", name: "rom", size: 0x1000n });
    const flash = new MemoryRegion(host, { kind: "rom-device", name: "flash", size: 0x1000n, ops: {} });
    listener.regionAdd(section(rom, 0n, 0x1000n));
    listener.regionAdd(section(flash, 0x1000n, 0x1000n));
    expect(kvm.log).toEqual(["0 0+1000 f0"]);
  });

  it("a ROM device with romd off has no slot: its region_add deletes (kvm_set_phys_mem)", () => {
    const { host, kvm, listener } = setup();
    const flash = new MemoryRegion(host, { kind: "rom-device", name: "flash", size: 0x1000n, ops: {} });
    listener.regionAdd(section(flash, 0n, 0x1000n));
    flash.setRomdMode(false);
    listener.regionDel(section(flash, 0n, 0x1000n));
    listener.regionAdd(section(flash, 0n, 0x1000n));
    expect(kvm.log).toEqual(["0 0+1000 f2", "0 0+0 f0"]);
    expect(listener.slots).toHaveLength(0);
  });
});

describe("slot allocation (kvm_set_user_memory_region)", () => {
  it("takes the lowest free id, reuses ids after deletion, finds slots by exact start and size", () => {
    const { host, kvm, listener } = setup();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x100000n });
    listener.regionAdd(section(ram, 0n, 0x1000n));
    listener.regionAdd(section(ram, 0x2000n, 0x1000n, 0x2000n));
    listener.regionAdd(section(ram, 0x4000n, 0x1000n, 0x4000n));
    listener.regionDel(section(ram, 0x2000n, 0x1000n, 0x2000n));
    listener.regionDel(section(ram, 0x4000n, 0x2000n, 0x4000n)); // no slot of that size: nothing
    listener.regionAdd(section(ram, 0x8000n, 0x1000n, 0x8000n));
    expect(kvm.log).toEqual(["0 0+1000 f0", "1 2000+1000 f0", "2 4000+1000 f0", "1 2000+0 f0", "1 8000+1000 f0"]);
    expect(listener.hasMemory(0x8000n, 0x1000n)).toBe(true);
    expect(listener.hasMemory(0x8000n, 0x800n)).toBe(false);
  });

  it("splits sections larger than the maximum slot size (s390x) into chunks", () => {
    const host = new StandaloneHost();
    const kvm = new RecordingBackend();
    const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { maxSlotSize: 0x2000n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
    listener.regionAdd(section(ram, 0n, 0x5000n));
    expect(kvm.log).toEqual(["0 0+2000 f0", "1 2000+2000 f0", "2 4000+1000 f0"]);
    expect(listener.hasMemory(0n, 0x5000n)).toBe(true);
  });

  it("slot numbers carry the KVM address space id in bits 16 and up", () => {
    const host = new StandaloneHost();
    const kvm = new RecordingBackend();
    const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { asId: 1 });
    listener.regionAdd(section(new MemoryRegion(host, { kind: "ram", name: "smram", size: 0x1000n }), 0n, 0x1000n));
    expect(kvm.regions[0]!.slot).toBe(0x10000);
  });
});

describe("dirty logging (kvm_log_start)", () => {
  it("log_start acts only for the first client, log_stop only for the last; flags rewritten in place", () => {
    const { host, kvm, listener } = setup();
    const vram = new MemoryRegion(host, { kind: "ram", name: "vram", size: 0x4000n });
    listener.regionAdd(section(vram, 0xa0000n, 0x4000n));
    vram.setLog(true);
    listener.logStart(section(vram, 0xa0000n, 0x4000n), 0, 1);
    listener.logStart(section(vram, 0xa0000n, 0x4000n), 1, 5);
    vram.setLog(false);
    listener.logStop(section(vram, 0xa0000n, 0x4000n), 5, 4);
    listener.logStop(section(vram, 0xa0000n, 0x4000n), 1, 0);
    expect(kvm.log).toEqual(["0 a0000+4000 f0", "0 a0000+4000 f1", "0 a0000+4000 f0"]);
  });

  it("log_sync and deleting a logging slot harvest the kernel's bitmap into the region's dirty pages", () => {
    const { host, kvm, listener } = setup();
    const vram = new MemoryRegion(host, { kind: "ram", name: "vram", size: 0x10000n });
    vram.setLog(true);
    listener.regionAdd(section(vram, 0xa0000n, 0x8000n, 0x8000n));
    kvm.dirty = Uint8Array.of(0b101);
    listener.logSync!(section(vram, 0xa0000n, 0x8000n, 0x8000n));
    expect(listener.takeDirtyPages(vram)).toEqual([0x8000n, 0xa000n]);
    expect(listener.takeDirtyPages(vram)).toEqual([]);
    kvm.dirty = Uint8Array.of(0b10);
    listener.regionDel(section(vram, 0xa0000n, 0x8000n, 0x8000n));
    expect(listener.takeDirtyPages(vram)).toEqual([0x9000n]);
  });
});

describe("ioeventfds (kvm_mem_ioeventfd_add/kvm_io_ioeventfd_add)", () => {
  it("MMIO ioeventfds pass through with the data taken as 32 bits (7.2); only when asked to handle them", () => {
    const { kvm, listener } = setup();
    expect(listener.eventfdAdd).toBeUndefined();
    const withFds = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { ioeventfds: true });
    const notifier = { id: 1, signal() {} };
    withFds.eventfdAdd!({ ...section(null as never, 0xfe000000n, 4n), mr: null }, true, 0x1_0000_0002n, notifier);
    expect(kvm.ioeventfds[0]).toMatchObject({ addr: 0xfe000000n, len: 4, datamatch: 2n, flags: 1 });
  });
});

describe("a dirty log that cannot be read when its slot is deleted (kvm_set_phys_mem)", () => {
  it("is reported, and the slot is deleted all the same (QEMU reports and carries on)", () => {
    const { host, kvm, listener } = setup();
    const vram = new MemoryRegion(host, { kind: "ram", name: "vram", size: 0x4000n });
    vram.setLog(true);
    listener.regionAdd(section(vram, 0xa0000n, 0x4000n));
    kvm.getDirtyLog = () => {
      throw new KvmError("EIO", "KVM_GET_DIRTY_LOG", "injected");
    };
    expect(() => listener.regionDel(section(vram, 0xa0000n, 0x4000n))).toThrow(
      expect.objectContaining({ code: "EIO" }),
    );
    expect(listener.slots).toHaveLength(0);
    expect(kvm.log.at(-1)).toBe("0 a0000+0 f0");
  });
});
