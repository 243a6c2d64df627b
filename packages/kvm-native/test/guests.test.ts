import {
  KVM_CAP,
  KVM_IOEVENTFD_FLAG_DATAMATCH,
  KVM_IOEVENTFD_FLAG_PIO,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
} from "@memtopo/kvm";
import { afterEach, describe, expect, it } from "vitest";
import { runVcpu } from "../src/index.js";
import { kvm, type Machine, machine, RecordingBus } from "./helpers.js";

// Real guests on /dev/kvm (tiny 16-bit programs in test/guests, assembled at test time).
describe.skipIf(!kvm.ok)("real guests on /dev/kvm", () => {
  let m: Machine | undefined;
  afterEach(() => {
    m?.vm.close();
    m = undefined;
  });

  function run(target: Machine, memory = new RecordingBus(), io = new RecordingBus()) {
    const result = runVcpu(target.vcpu, { memory, io }, { maxExits: 100 });
    return { result, memory, io };
  }

  it("a guest write to RAM is seen in the ArrayBuffer, and a TypeScript write is seen by the guest", () => {
    m = machine("ram");
    const bytes = m.lowRam.bytes();
    bytes[0x2000] = 0x41;
    const { result } = run(m);
    expect(result.reason).toBe("hlt");
    expect(result.exits).toBe(0);
    expect(bytes[0x2001]).toBe(0x42);
    expect(bytes[0x3000]).toBe(0xef);
    expect(bytes[0x3001]).toBe(0xbe);
  });

  it("MMIO and PIO reads and writes reach a TypeScript device, and its values reach the guest", () => {
    m = machine("devices");
    const memory = new RecordingBus();
    const io = new RecordingBus();
    io.values.set(0x3f8n, [0x41]);
    memory.values.set(0xd0000n, [0x99]);
    memory.values.set(0xd0004n, [0x78, 0x56, 0x34, 0x12]);
    const { result } = run(m, memory, io);
    expect(result.reason).toBe("hlt");
    expect(io.log).toEqual([
      { kind: "read", addr: 0x3f8n, bytes: [0x41] },
      { kind: "write", addr: 0x3f8n, bytes: [0x42] },
    ]);
    expect(memory.log).toEqual([
      { kind: "read", addr: 0xd0000n, bytes: [0x99] },
      { kind: "read", addr: 0xd0004n, bytes: [0x78, 0x56, 0x34, 0x12] },
      { kind: "write", addr: 0xd0008n, bytes: [0x34, 0x12] },
    ]);
    const regs = m.vcpu.getRegs();
    expect(regs.rbx & 0xffn).toBe(0x99n);
    expect(regs.rcx & 0xffffffffn).toBe(0x12345678n);
    const bytes = m.lowRam.bytes();
    expect(bytes[0x2000]).toBe(0x41);
    expect(bytes[0x2001]).toBe(0x99);
    expect([...bytes.subarray(0x2004, 0x2008)]).toEqual([0x78, 0x56, 0x34, 0x12]);
  });

  it("an ioeventfd write causes no exit and the eventfd counts it; a datamatch miss exits as MMIO", () => {
    m = machine("ioeventfd");
    const any = m.vm.createEventNotifier();
    const match = m.vm.createEventNotifier();
    const pio = m.vm.createEventNotifier();
    m.vm.ioeventfd({ addr: 0xd0100n, len: 1, notifier: any, flags: 0, datamatch: 0n });
    m.vm.ioeventfd({ addr: 0xd0200n, len: 1, notifier: match, flags: KVM_IOEVENTFD_FLAG_DATAMATCH, datamatch: 0x41n });
    m.vm.ioeventfd({
      addr: 0x510n,
      len: 1,
      notifier: pio,
      flags: KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH,
      datamatch: 7n,
    });
    const { result, memory, io } = run(m);
    expect(result.reason).toBe("hlt");
    expect(memory.log).toEqual([{ kind: "write", addr: 0xd0200n, bytes: [0x42] }]);
    expect(io.log).toEqual([]);
    expect(any.read()).toBe(5n);
    expect(match.read()).toBe(1n);
    expect(pio.read()).toBe(1n);
    expect(any.read()).toBe(0n);
  });

  it("a write to a KVM_MEM_READONLY slot does not change it and exits as MMIO; reads come from the ROM", () => {
    m = machine("rom");
    if (m.vm.checkExtension(KVM_CAP.READONLY_MEM) === 0) {
      console.warn("[kvm-native] KVM_CAP_READONLY_MEM absent: read-only slot test not applicable");
      return;
    }
    const rom = m.mapRam(1, 0x4000n, 0x1000n, 0x11, KVM_MEM_READONLY);
    const { result, memory } = run(m);
    expect(result.reason).toBe("hlt");
    expect(memory.log).toEqual([{ kind: "write", addr: 0x4000n, bytes: [0x77] }]);
    expect(rom.bytes()[0]).toBe(0x11);
    expect(m.lowRam.bytes()[0x2000]).toBe(0x11);
  });

  it("remapping a slot between runs changes what the guest sees on the next run", () => {
    m = machine("remap");
    const a = m.mapRam(2, 0x5000n, 0x1000n, 0xa1);
    expect(run(m).result.reason).toBe("hlt");
    expect(m.lowRam.bytes()[0x2000]).toBe(0xa1);

    m.vm.setUserMemoryRegion({ slot: 2, flags: 0, guestPhysAddr: 0x5000n, memorySize: 0n, userspaceAddr: a.hostAddr });
    m.mapRam(2, 0x5000n, 0x1000n, 0xb2);
    m.restart();
    expect(run(m).result.reason).toBe("hlt");
    expect(m.lowRam.bytes()[0x2000]).toBe(0xb2);

    // The same block moved elsewhere (a BAR moving away): 0x5000 becomes MMIO.
    m.vm.setUserMemoryRegion({ slot: 2, flags: 0, guestPhysAddr: 0x5000n, memorySize: 0n, userspaceAddr: 0n });
    m.vm.setUserMemoryRegion({
      slot: 2,
      flags: 0,
      guestPhysAddr: 0x8000n,
      memorySize: 0x1000n,
      userspaceAddr: a.hostAddr,
    });
    m.restart();
    const memory = new RecordingBus();
    memory.values.set(0x5000n, [0xc3]);
    expect(run(m, memory).result.reason).toBe("hlt");
    expect(memory.log).toEqual([{ kind: "read", addr: 0x5000n, bytes: [0xc3] }]);
    expect(m.lowRam.bytes()[0x2000]).toBe(0xc3);
  });

  it("the dirty log reports exactly the pages the guest wrote, and reading it clears it", () => {
    m = machine("dirty");
    const logged = m.mapRam(3, 0x10000n, 0x10000n, 0, KVM_MEM_LOG_DIRTY_PAGES);
    logged.bytes()[0x5000] = 9; // host writes are not guest writes: page 5 stays clean
    expect(run(m).result.reason).toBe("hlt");
    const bitmap = m.vm.getDirtyLog(3);
    expect(bitmap.length).toBe(8);
    expect([...bitmap]).toEqual([0b0001_0101, 0b10, 0, 0, 0, 0, 0, 0]);
    expect([...m.vm.getDirtyLog(3)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(logged.bytes()[0x9ffe]).toBe(1);
  });

  it("a slot without KVM_MEM_LOG_DIRTY_PAGES has no dirty log (ENOENT)", () => {
    m = machine("ram");
    expect(() => m!.vm.getDirtyLog(0)).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });

  it("runVcpu stops after maxExits, and a kick makes the next run return at once", () => {
    m = machine("loop");
    const view = new DataView(m.lowRam.bytes().buffer);
    view.setUint32(0x500, 3, true);
    view.setUint32(0x504, 2, true);
    const memory = new RecordingBus();
    const io = new RecordingBus();
    const first = runVcpu(m.vcpu, { memory, io }, { maxExits: 2 });
    expect(first).toMatchObject({ reason: "max-exits", exits: 2 });
    m.vcpu.kick();
    expect(runVcpu(m.vcpu, { memory, io }).reason).toBe("kicked");
    const rest = runVcpu(m.vcpu, { memory, io }, { maxExits: 100 });
    expect(rest).toMatchObject({ reason: "hlt", exits: 3 });
    expect(io.log.map((a) => a.addr)).toEqual([0x3f8n, 0x3f8n, 0x3f8n]);
    expect(memory.log.map((a) => a.addr)).toEqual([0xd0000n, 0xd0000n]);
  });

  it("RAM a memslot uses stays mapped after its block is released (the slot holds it)", () => {
    m = machine("remap");
    const block = m.mapRam(2, 0x5000n, 0x1000n, 0xd4);
    block.release();
    expect(() => block.bytes()).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
    expect(run(m).result.reason).toBe("hlt");
    expect(m.lowRam.bytes()[0x2000]).toBe(0xd4);
  });

  it("memslots may only point into RAM the addon allocated (EFAULT otherwise), and a failed call changes nothing", () => {
    m = machine("ram");
    expect(() =>
      m!.vm.setUserMemoryRegion({
        slot: 5,
        flags: 0,
        guestPhysAddr: 0x8000n,
        memorySize: 0x1000n,
        userspaceAddr: 0x1000n,
      }),
    ).toThrow(expect.objectContaining({ code: "EFAULT", operation: "KVM_SET_USER_MEMORY_REGION" }));
    // Beyond the end of a real block is refused as well.
    expect(() =>
      m!.vm.setUserMemoryRegion({
        slot: 5,
        flags: 0,
        guestPhysAddr: 0x8000n,
        memorySize: 0x5000n,
        userspaceAddr: m!.lowRam.hostAddr,
      }),
    ).toThrow(expect.objectContaining({ code: "EFAULT" }));
    // Overlapping slot 0: the kernel's EEXIST, and slot 0 still works.
    expect(() =>
      m!.vm.setUserMemoryRegion({
        slot: 5,
        flags: 0,
        guestPhysAddr: 0n,
        memorySize: 0x1000n,
        userspaceAddr: m!.lowRam.hostAddr,
      }),
    ).toThrow(expect.objectContaining({ code: "EEXIST" }));
    m.lowRam.bytes()[0x2000] = 1;
    expect(run(m).result.reason).toBe("hlt");
    expect(m.lowRam.bytes()[0x2001]).toBe(2);
  });

  it("capabilities: KVM_CHECK_EXTENSION answers for the VM", () => {
    m = machine("ram");
    expect(m.vm.checkExtension(KVM_CAP.USER_MEMORY)).toBe(1);
    expect(m.vm.checkExtension(KVM_CAP.IOEVENTFD)).toBeGreaterThan(0);
    expect(m.vm.checkExtension(KVM_CAP.NR_MEMSLOTS)).toBeGreaterThan(0);
    expect(m.vm.checkExtension(0x7fff_0000)).toBe(0);
  });

  it("close deletes slots and releases RAM; using the VM afterwards throws EBADF", () => {
    const local = machine("ram");
    const ram = local.lowRam;
    local.vm.close();
    expect(() => ram.bytes()).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
    expect(() => local.vm.checkExtension(KVM_CAP.USER_MEMORY)).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => local.vcpu.run()).toThrow(expect.objectContaining({ code: "EBADF" }));
    local.vm.close();
  });
});
