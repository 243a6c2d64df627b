import {
  attachKvm,
  KVM_CAP,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MEM_LOG_DIRTY_PAGES,
  type KvmBackend,
} from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { dirtyPageOffsets, MemorySystem } from "memtopo";
import { afterEach, describe, expect, it } from "vitest";
import { enterRealMode, NativeKvm, runVcpu, type Vcpu } from "../src/index.js";
import { CODE_AT, guest, kvm, LOW_RAM_SIZE, type Machine, machine, RecordingBus } from "./helpers.js";

// Dirty logging on /dev/kvm: KVM_GET_DIRTY_LOG with manual protect and KVM_CLEAR_DIRTY_LOG,
// the dirty ring (KVM_CAP_DIRTY_LOG_RING), and memtopo's global dirty tracking on top of
// both. The guest (test/guests/dirty.S) writes pages 0, 2, 4 and 9 of the slot at 0x10000.
const WRITTEN = [0, 2, 4, 9];

function pagesOf(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < bitmap.length * 8; p++) if ((bitmap[p >>> 3]! & (1 << (p & 7))) !== 0) out.push(p);
  return out;
}

function bitmapOf(pages: readonly number[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (const p of pages) out[p >>> 3]! |= 1 << (p & 7);
  return out;
}

function runToHlt(vcpu: Vcpu): void {
  const result = runVcpu(vcpu, { memory: new RecordingBus(), io: new RecordingBus() }, { maxExits: 100 });
  expect(result.reason).toBe("hlt");
}

/** A VM whose dirty ring (when asked) is enabled before its vCPU, running dirty.S. */
function ringMachine(ringBytes: number, name = "dirty"): { vm: NativeKvm; vcpu: Vcpu; restart(): void } {
  const vm = NativeKvm.open();
  vm.enableDirtyLogRing(ringBytes);
  const low = vm.ramAllocator.allocate("low", LOW_RAM_SIZE);
  low.bytes().set(guest(name), CODE_AT);
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: LOW_RAM_SIZE,
    userspaceAddr: low.hostAddr,
  });
  const vcpu = vm.createVcpu(0);
  enterRealMode(vcpu, CODE_AT);
  return { vm, vcpu, restart: () => enterRealMode(vcpu, CODE_AT) };
}

describe.skipIf(!kvm.ok)("dirty logging on /dev/kvm", () => {
  let m: Machine | undefined;
  let vm: NativeKvm | undefined;
  afterEach(() => {
    m?.vm.close();
    vm?.close();
    m = undefined;
    vm = undefined;
  });

  it("manual protect: KVM_GET_DIRTY_LOG leaves the bits, KVM_CLEAR_DIRTY_LOG clears and re-protects the pages it names", () => {
    m = machine("dirty");
    m.vm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    expect(m.vm.dirtyLogManualProtect).toBe(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    m.mapRam(3, 0x10000n, 0x100000n, 0, KVM_MEM_LOG_DIRTY_PAGES);
    runToHlt(m.vcpu);
    expect(pagesOf(m.vm.getDirtyLog(3))).toEqual(WRITTEN);
    expect(pagesOf(m.vm.getDirtyLog(3)), "a second read still has them").toEqual(WRITTEN);
    m.vm.clearDirtyLog(3, 0n, 64, bitmapOf([0, 2], 8));
    expect(pagesOf(m.vm.getDirtyLog(3))).toEqual([4, 9]);
    // The kernel's rules: first_page a multiple of 64, num_pages too unless the range ends the slot.
    expect(() => m!.vm.clearDirtyLog(3, 1n, 63, new Uint8Array(8))).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => m!.vm.clearDirtyLog(3, 0n, 10, new Uint8Array(8))).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    m.vm.clearDirtyLog(3, 0n, 256, bitmapOf([4, 9], 32));
    expect(pagesOf(m.vm.getDirtyLog(3))).toEqual([]);
    // Cleared pages are write-protected again: the guest's next writes are logged.
    m.restart();
    runToHlt(m.vcpu);
    expect(pagesOf(m.vm.getDirtyLog(3))).toEqual(WRITTEN);
  });

  it("open({ manualDirtyLogProtect: true }) enables what KVM_CHECK_EXTENSION offers of ENABLE and INITIALLY_SET, as QEMU's kvm_init", () => {
    const probe = NativeKvm.open();
    const offered = probe.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2);
    probe.close();
    const expected = offered & (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
    if (expected === 0) {
      expect(() => NativeKvm.open({ manualDirtyLogProtect: true }), "a kernel without it refuses").toThrow(
        expect.objectContaining({ code: "EINVAL" }),
      );
      return;
    }
    m = machine("dirty", { manualDirtyLogProtect: true });
    expect(m.vm.dirtyLogManualProtect).toBe(expected);
    m.mapRam(3, 0x10000n, 0x100000n, 0, KVM_MEM_LOG_DIRTY_PAGES);
    const initially = (expected & KVM_DIRTY_LOG_INITIALLY_SET) !== 0;
    // INITIALLY_SET: the new logging slot reports all of its 256 pages until cleared; without it, none.
    expect(pagesOf(m.vm.getDirtyLog(3)).length).toBe(initially ? 256 : 0);
  });

  it("INITIALLY_SET: a slot that starts logging reports every page dirty until cleared, then only what the guest writes; the mock's the same", (ctx) => {
    const probe = NativeKvm.open();
    const caps = probe.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2);
    probe.close();
    if ((caps & KVM_DIRTY_LOG_INITIALLY_SET) === 0)
      ctx.skip("this kernel's manual protect has no KVM_DIRTY_LOG_INITIALLY_SET");
    const flags = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
    const all = Array.from({ length: 256 }, (_, i) => i);
    // The same steps on both backends; `write` makes the guest's stores (dirty.S's pages 0, 2, 4 and 9).
    const steps = (backend: KvmBackend, write: () => void) => {
      const seen: number[][] = [];
      seen.push(pagesOf(backend.getDirtyLog(3)));
      write();
      seen.push(pagesOf(backend.getDirtyLog(3)));
      backend.clearDirtyLog!(3, 0n, 256, bitmapOf(all, 32));
      seen.push(pagesOf(backend.getDirtyLog(3)));
      write();
      seen.push(pagesOf(backend.getDirtyLog(3)));
      backend.clearDirtyLog!(3, 0n, 64, bitmapOf([2], 8));
      seen.push(pagesOf(backend.getDirtyLog(3)));
      return seen;
    };
    m = machine("dirty");
    m.vm.enableDirtyLogManualProtect(flags);
    expect(m.vm.dirtyLogManualProtect).toBe(flags);
    m.mapRam(3, 0x10000n, 0x100000n, 0, KVM_MEM_LOG_DIRTY_PAGES);
    const real = steps(m.vm, () => {
      m!.restart();
      runToHlt(m!.vcpu);
    });
    const mock = new MockKvm();
    mock.enableDirtyLogManualProtect(flags);
    const block = mock.ramAllocator().allocate("slot3", 0x100000n);
    mock.setUserMemoryRegion({
      slot: 3,
      flags: KVM_MEM_LOG_DIRTY_PAGES,
      guestPhysAddr: 0x10000n,
      memorySize: 0x100000n,
      userspaceAddr: block.hostAddr,
    });
    const simulated = steps(mock, () => {
      for (const p of WRITTEN) mock.guestWrite(0x10000n + BigInt(p) * 0x1000n, 1, 1);
    });
    expect(real).toEqual([all, all, [], WRITTEN, [0, 4, 9]]);
    expect(simulated).toEqual(real);
  });

  it("the dirty ring: entries per first write, none again until KVM_RESET_DIRTY_RINGS re-protects; the bitmap ioctls are ENXIO", (ctx) => {
    const probe = NativeKvm.open();
    const max = probe.checkExtension(KVM_CAP.DIRTY_LOG_RING);
    probe.close();
    if (max === 0) ctx.skip("this kernel has no KVM_CAP_DIRTY_LOG_RING");
    const r = ringMachine(0x10000);
    vm = r.vm;
    expect(vm.dirtyRingSize).toBe(0x10000);
    vm.setUserMemoryRegion({
      slot: 3,
      flags: KVM_MEM_LOG_DIRTY_PAGES,
      guestPhysAddr: 0x10000n,
      memorySize: 0x10000n,
      userspaceAddr: vm.ramAllocator.allocate("logged", 0x10000n).hostAddr,
    });
    runToHlt(r.vcpu);
    const entries = vm.reapDirtyRings();
    expect(entries.map((e) => e.slot)).toEqual([3, 3, 3, 3]);
    expect(entries.map((e) => Number(e.offset)).sort((a, b) => a - b)).toEqual(WRITTEN);
    expect(vm.reapDirtyRings(), "collected entries are not reaped twice").toEqual([]);
    expect(() => vm!.getDirtyLog(3)).toThrow(expect.objectContaining({ code: "ENXIO" }));
    // Collected but not reset: the pages are still writable, so another run adds nothing.
    r.restart();
    runToHlt(r.vcpu);
    expect(vm.reapDirtyRings()).toEqual([]);
    expect(vm.resetDirtyRings()).toBe(4);
    expect(vm.resetDirtyRings(), "nothing left to recycle").toBe(0);
    r.restart();
    runToHlt(r.vcpu);
    expect(
      vm
        .reapDirtyRings()
        .map((e) => Number(e.offset))
        .sort((a, b) => a - b),
    ).toEqual(WRITTEN);
  });

  it("a full dirty ring: KVM_EXIT_DIRTY_RING_FULL at the soft limit, again until the rings are reset, then the guest runs on", (ctx) => {
    const probe = NativeKvm.open();
    const max = probe.checkExtension(KVM_CAP.DIRTY_LOG_RING);
    probe.close();
    if (max === 0) ctx.skip("this kernel has no KVM_CAP_DIRTY_LOG_RING");
    // One page: 256 entries, 64 of them kept back; dirty-many.S writes 200 pages.
    const r = ringMachine(0x1000, "dirty-many");
    vm = r.vm;
    vm.setUserMemoryRegion({
      slot: 3,
      flags: KVM_MEM_LOG_DIRTY_PAGES,
      guestPhysAddr: 0x10000n,
      memorySize: 0x100000n,
      userspaceAddr: vm.ramAllocator.allocate("logged", 0x100000n).hostAddr,
    });
    expect(r.vcpu.run()).toEqual({ reason: "dirty-ring-full" });
    expect(r.vcpu.run(), "no entry to the guest while the ring is full").toEqual({ reason: "dirty-ring-full" });
    const first = vm.reapDirtyRings();
    expect(first.length).toBeGreaterThanOrEqual(256 - 64);
    expect(first.length).toBeLessThan(200);
    expect(r.vcpu.run(), "reaped but not reset: still full").toEqual({ reason: "dirty-ring-full" });
    expect(vm.resetDirtyRings()).toBe(first.length);
    runToHlt(r.vcpu);
    const rest = vm.reapDirtyRings().map((e) => Number(e.offset));
    const offsets = [...first.map((e) => Number(e.offset)), ...rest];
    expect([...new Set(offsets)].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // The store whose fault pushed the entry that filled the ring had not retired when the vCPU exited: after
    // the reset write-protected its page again, it faults once more (a second entry; the nested run on 6.1
    // saw it). Only that page may come twice.
    const last = Number(first.at(-1)!.offset);
    expect(offsets.filter((p) => p !== last)).toHaveLength(199);
  });

  it("the dirty ring is enabled once, before any vCPU, with a power-of-two size", (ctx) => {
    vm = NativeKvm.open();
    if (vm.checkExtension(KVM_CAP.DIRTY_LOG_RING) === 0) ctx.skip("this kernel has no KVM_CAP_DIRTY_LOG_RING");
    expect(() => vm!.enableDirtyLogRing(0x3000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => vm!.enableDirtyLogRing(-1)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    vm.enableDirtyLogRing(0x1000);
    expect(() => vm!.enableDirtyLogRing(0x1000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const other = NativeKvm.open();
    try {
      other.createVcpu(0);
      expect(() => other.enableDirtyLogRing(0x1000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    } finally {
      other.close();
    }
  });

  for (const mode of ["bitmap", "manual", "ring"] as const) {
    it(`memtopo's global dirty tracking (${mode}): the guest's pages reach the RAM block's migration bitmap, once`, (ctx) => {
      vm = NativeKvm.open(mode === "manual" ? { manualDirtyLogProtect: true } : {});
      if (mode === "ring") {
        if (vm.checkExtension(KVM_CAP.DIRTY_LOG_RING) === 0) ctx.skip("this kernel has no KVM_CAP_DIRTY_LOG_RING");
        vm.enableDirtyLogRing(0x10000);
      }
      const sys = new MemorySystem({ accel: "kvm", ramAllocator: vm.ramAllocator });
      const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const low = new MemoryRegion(sys, { kind: "ram", name: "low", size: LOW_RAM_SIZE });
      const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x20000n });
      // The block's second half is what the guest sees at 0x10000, through an alias (as PC RAM is).
      const window = new MemoryRegion(sys, {
        kind: "alias",
        name: "ram-window",
        size: 0x10000n,
        target: ram,
        offset: 0x10000n,
      });
      root.addSubregion(0n, low);
      root.addSubregion(0x10000n, window);
      low.ramBlock!.bytes().set(guest("dirty"), CODE_AT);
      attachKvm(sys, vm, { memory: sys.createAddressSpace("memory", root) });
      const vcpu = vm.createVcpu(0);
      enterRealMode(vcpu, CODE_AT);
      sys.startDirtyLog();
      sys.syncDirtyLog();
      sys.takeDirtyBitmap(ram);
      sys.takeDirtyBitmap(low);
      runToHlt(vcpu);
      sys.syncDirtyLog();
      // Offsets in the block, not guest addresses: the window starts at byte 0x10000 of pc.ram.
      expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram))).toEqual(WRITTEN.map((p) => 0x10000n + BigInt(p) * 0x1000n));
      sys.syncDirtyLog();
      expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram)), "taken pages are clean until written again").toEqual([]);
      enterRealMode(vcpu, CODE_AT);
      runToHlt(vcpu);
      sys.syncDirtyLog();
      expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram)).length).toBe(WRITTEN.length);
      sys.stopDirtyLog();
    });
  }
});
