import { KVM_MEM_LOG_DIRTY_PAGES as LOG } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { expectErrno, PAGE, region } from "./helpers.js";

function bits(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

describe("KVM_GET_DIRTY_LOG (virt/kvm/kvm_main.c kvm_get_dirty_log_protect)", () => {
  it("bitmap size: one bit per page, rounded up to whole 64-bit words", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, LOG));
    kvm.setUserMemoryRegion(region(1, 0x100000n, 64n * PAGE, LOG));
    kvm.setUserMemoryRegion(region(2, 0x200000n, 65n * PAGE, LOG));
    expect(kvm.getDirtyLog(0)).toHaveLength(8);
    expect(kvm.getDirtyLog(1)).toHaveLength(8);
    expect(kvm.getDirtyLog(2)).toHaveLength(16);
  });

  it("a read returns the pages the guest dirtied and clears them", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0x10000n, 80n * PAGE, LOG));
    kvm.guestWrite(0x10000n, 1n, 1);
    kvm.guestWrite(0x10000n + 2n * PAGE + 5n, 1n, 4);
    kvm.guestWrite(0x10000n + 70n * PAGE, new Uint8Array(2 * 4096));
    expect(bits(kvm.getDirtyLog(0))).toEqual([0, 2, 70, 71]);
    expect(bits(kvm.getDirtyLog(0))).toEqual([]);
  });

  it("a write crossing a page boundary dirties both pages", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 4n * PAGE, LOG));
    kvm.guestWrite(PAGE - 2n, 0xffff_ffffn, 4);
    expect(bits(kvm.getDirtyLog(0))).toEqual([0, 1]);
  });

  it("ENOENT for a slot without LOG_DIRTY_PAGES and for a slot that is not in use", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expectErrno(() => kvm.getDirtyLog(0), "ENOENT");
    expectErrno(() => kvm.getDirtyLog(1), "ENOENT");
  });

  it("EINVAL for a slot id or address space out of range", () => {
    const kvm = new MockKvm({ nrMemslots: 16 });
    expectErrno(() => kvm.getDirtyLog(16), "EINVAL");
    expectErrno(() => kvm.getDirtyLog(0x1_0000), "EINVAL");
  });

  it("stopping logging frees the bitmap (ENOENT); starting again gives a clean one", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 2n * PAGE, LOG));
    kvm.guestWrite(0n, 1n, 1);
    kvm.setUserMemoryRegion(region(0, 0n, 2n * PAGE, 0));
    expectErrno(() => kvm.getDirtyLog(0), "ENOENT");
    kvm.guestWrite(PAGE, 1n, 1);
    kvm.setUserMemoryRegion(region(0, 0n, 2n * PAGE, LOG));
    expect(bits(kvm.getDirtyLog(0))).toEqual([]);
  });

  it("a moved slot keeps its bitmap", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 2n * PAGE, LOG));
    kvm.guestWrite(PAGE, 1n, 1);
    kvm.setUserMemoryRegion(region(0, 0x10000n, 2n * PAGE, LOG));
    expect(bits(kvm.getDirtyLog(0))).toEqual([1]);
  });

  it("a slot in address space 1 is named with as_id << 16", () => {
    const kvm = new MockKvm({ addressSpaces: 2 });
    kvm.setUserMemoryRegion(region(0x1_0003, 0n, PAGE, LOG));
    kvm.guestWrite(0n, 1n, 1, 1);
    expect(bits(kvm.getDirtyLog(0x1_0003))).toEqual([0]);
    expectErrno(() => kvm.getDirtyLog(3), "ENOENT");
  });

  it("the returned bitmap is a copy", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, LOG));
    kvm.guestWrite(0n, 1n, 1);
    const bitmap = kvm.getDirtyLog(0);
    expect((kvm.calls.at(-1)!.result as Uint8Array)[0]).toBe(1);
    bitmap[0] = 0;
    expect((kvm.calls.at(-1)!.result as Uint8Array)[0]).toBe(1);
  });
});

describe("KVM_CLEAR_DIRTY_LOG (virt/kvm/kvm_main.c kvm_clear_dirty_log_protect)", () => {
  function dirtyAll(kvm: MockKvm, pages: number): void {
    for (let p = 0; p < pages; p++) kvm.guestWrite(BigInt(p) * PAGE, 1n, 1);
  }

  it("clears only the pages whose bits are set", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 128n * PAGE, LOG));
    dirtyAll(kvm, 128);
    const mask = new Uint8Array(8);
    mask[0] = 0b101;
    kvm.clearDirtyLog(0, 64n, 64, mask);
    const left = bits(kvm.getDirtyLog(0));
    expect(left).toHaveLength(126);
    expect(left).not.toContain(64);
    expect(left).not.toContain(66);
  });

  it("first_page must be a multiple of 64 (EINVAL)", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 128n * PAGE, LOG));
    expectErrno(() => kvm.clearDirtyLog(0, 1n, 64, new Uint8Array(8)), "EINVAL");
  });

  it("the range must lie in the slot; num_pages not a multiple of 64 only up to the slot's end (EINVAL)", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 100n * PAGE, LOG));
    expectErrno(() => kvm.clearDirtyLog(0, 128n, 0, new Uint8Array(8)), "EINVAL");
    expectErrno(() => kvm.clearDirtyLog(0, 64n, 64, new Uint8Array(8)), "EINVAL");
    expectErrno(() => kvm.clearDirtyLog(0, 0n, 10, new Uint8Array(8)), "EINVAL");
    kvm.clearDirtyLog(0, 64n, 36, new Uint8Array(8));
    kvm.clearDirtyLog(0, 0n, 64, new Uint8Array(8));
  });

  it("ENOENT for a slot that does not log", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expectErrno(() => kvm.clearDirtyLog(0, 0n, 1, new Uint8Array(8)), "ENOENT");
  });

  it("EFAULT when the bitmap is shorter than the words the kernel reads", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 64n * PAGE, LOG));
    expectErrno(() => kvm.clearDirtyLog(0, 0n, 64, new Uint8Array(4)), "EFAULT");
  });
});
