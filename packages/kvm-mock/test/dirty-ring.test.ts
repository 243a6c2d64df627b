import {
  KVM_CAP,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MEM_LOG_DIRTY_PAGES,
} from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";

// The kernel's manual dirty-log protect and dirty ring (virt/kvm/kvm_main.c, dirty_ring.c, 6.1).

function logged(kvm: MockKvm, pages = 256): void {
  const block = kvm.ramAllocator().allocate("ram", BigInt(pages) * 0x1000n);
  kvm.setUserMemoryRegion({
    slot: 1,
    flags: KVM_MEM_LOG_DIRTY_PAGES,
    guestPhysAddr: 0x100000n,
    memorySize: BigInt(pages) * 0x1000n,
    userspaceAddr: block.hostAddr,
  });
}

function pagesOf(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p < bitmap.length * 8; p++) if ((bitmap[p >>> 3]! & (1 << (p & 7))) !== 0) out.push(p);
  return out;
}

describe("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2", () => {
  it("enable takes a subset of what the kernel reports, and GET then leaves the bits to CLEAR", () => {
    const kvm = new MockKvm();
    expect(() => kvm.enableDirtyLogManualProtect(4)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => new MockKvm({ manualDirtyLogProtect: 0 }).enableDirtyLogManualProtect(1)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    kvm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
    expect(kvm.dirtyLogManualProtect).toBe(1);
    logged(kvm);
    kvm.guestWrite(0x100000n, 1, 1);
    kvm.guestWrite(0x105000n, 1, 1);
    expect(pagesOf(kvm.getDirtyLog(1))).toEqual([0, 5]);
    expect(pagesOf(kvm.getDirtyLog(1)), "GET does not clear").toEqual([0, 5]);
    kvm.clearDirtyLog(1, 0n, 64, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    expect(pagesOf(kvm.getDirtyLog(1))).toEqual([5]);
  });

  it("INITIALLY_SET: a slot that starts logging starts with every page dirty", () => {
    const kvm = new MockKvm();
    kvm.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
    logged(kvm, 70);
    expect(pagesOf(kvm.getDirtyLog(1)).length).toBe(70);
  });
});

describe("KVM_CAP_DIRTY_LOG_RING", () => {
  it("reports the largest ring; enabled once, before any vCPU, a power of two of at least a page", () => {
    const kvm = new MockKvm();
    expect(kvm.checkExtension(KVM_CAP.DIRTY_LOG_RING)).toBe(65536 * 16);
    expect(new MockKvm({ dirtyLogRing: false }).checkExtension(KVM_CAP.DIRTY_LOG_RING)).toBe(0);
    expect(() => new MockKvm({ dirtyLogRing: false }).enableDirtyLogRing(0x1000)).toThrow(
      expect.objectContaining({ code: "EINVAL" }),
    );
    expect(() => kvm.enableDirtyLogRing(0x3000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => kvm.enableDirtyLogRing(0x800)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => kvm.enableDirtyLogRing(0x200000)).toThrow(expect.objectContaining({ code: "E2BIG" }));
    kvm.enableDirtyLogRing(0x1000);
    expect(kvm.dirtyRingSize).toBe(0x1000);
    expect(() => kvm.enableDirtyLogRing(0x1000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const late = new MockKvm();
    late.createVcpu(0);
    expect(() => late.enableDirtyLogRing(0x1000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("a first write pushes an entry; collected entries are re-protected only by KVM_RESET_DIRTY_RINGS; the bitmap ioctls are ENXIO", () => {
    const kvm = new MockKvm();
    kvm.enableDirtyLogRing(0x1000);
    kvm.createVcpu(0);
    logged(kvm);
    kvm.guestWrite(0x102000n, 1, 1);
    kvm.guestWrite(0x102008n, 1, 1); // same page, still writable: no second entry
    kvm.guestWrite(0x107000n, 1, 1);
    expect(kvm.reapDirtyRings()).toEqual([
      { slot: 1, offset: 2n },
      { slot: 1, offset: 7n },
    ]);
    expect(kvm.reapDirtyRings()).toEqual([]);
    kvm.guestWrite(0x102000n, 2, 1);
    expect(kvm.reapDirtyRings(), "collected but not reset: the page is still writable").toEqual([]);
    expect(kvm.resetDirtyRings()).toBe(2);
    expect(kvm.resetDirtyRings()).toBe(0);
    kvm.guestWrite(0x102000n, 3, 1);
    expect(kvm.reapDirtyRings()).toEqual([{ slot: 1, offset: 2n }]);
    expect(() => kvm.getDirtyLog(1)).toThrow(expect.objectContaining({ code: "ENXIO" }));
    expect(() => kvm.clearDirtyLog(1, 0n, 64, new Uint8Array(8))).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });

  it("a full ring refuses the write (the vCPU would have exited with KVM_EXIT_DIRTY_RING_FULL); a write needs a vCPU", () => {
    const kvm = new MockKvm();
    kvm.enableDirtyLogRing(0x1000); // 256 entries
    logged(kvm, 512);
    expect(() => kvm.guestWrite(0x100000n, 1, 1)).toThrow(/needs a vCPU/);
    kvm.createVcpu(0);
    for (let p = 0; p < 256; p++) kvm.guestWrite(0x100000n + BigInt(p) * 0x1000n, 1, 1);
    expect(() => kvm.guestWrite(0x100000n + 256n * 0x1000n, 1, 1)).toThrow(/KVM_EXIT_DIRTY_RING_FULL/);
    expect(kvm.guestRead(0x100000n + 256n * 0x1000n, 1)).toEqual(Uint8Array.of(0));
    expect(kvm.reapDirtyRings()).toHaveLength(256);
    expect(kvm.resetDirtyRings()).toBe(256);
    kvm.guestWrite(0x100000n + 256n * 0x1000n, 1, 1);
  });
});
