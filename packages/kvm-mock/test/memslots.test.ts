import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KvmError } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { expectErrno, hostAddrFor, PAGE, region } from "./helpers.js";

describe("KVM_SET_USER_MEMORY_REGION (virt/kvm/kvm_main.c __kvm_set_memory_region)", () => {
  it("creates a slot and lists it with its id and address space", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(3, 0x10_0000n, 0x20_0000n));
    expect(kvm.memslots()).toEqual([
      {
        slot: 3,
        asId: 0,
        id: 3,
        guestPhysAddr: 0x10_0000n,
        memorySize: 0x20_0000n,
        userspaceAddr: hostAddrFor(3),
        flags: 0,
      },
    ]);
  });

  it("slot id: id (slot & 0xffff) must be below KVM_CAP_NR_MEMSLOTS, else EINVAL", () => {
    const kvm = new MockKvm({ nrMemslots: 8 });
    kvm.setUserMemoryRegion(region(7, 0n, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(8, PAGE, PAGE)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0xffff, PAGE, PAGE)), "EINVAL");
    expect(kvm.memslots().map((s) => s.slot)).toEqual([7]);
  });

  it("slot limit: the default limit is 32764 ids, as KVM_USER_MEM_SLOTS on x86", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(32763, 0n, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(32764, PAGE, PAGE)), "EINVAL");
  });

  it("address space: as_id = slot >> 16 must be below the number of address spaces, else EINVAL", () => {
    const single = new MockKvm();
    expectErrno(() => single.setUserMemoryRegion(region(0x1_0000, 0n, PAGE)), "EINVAL");
    const smm = new MockKvm({ addressSpaces: 2 });
    smm.setUserMemoryRegion(region(0x1_0000, 0n, PAGE));
    expectErrno(() => smm.setUserMemoryRegion(region(0x2_0000, 0n, PAGE)), "EINVAL");
    expect(smm.memslots()).toMatchObject([{ slot: 0x1_0000, asId: 1, id: 0 }]);
  });

  it("page alignment: guest address, size and userspace address must be page aligned, else EINVAL", () => {
    const kvm = new MockKvm();
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0x800n, PAGE)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0x1800n)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, PAGE, 0, hostAddrFor(0) + 0x10n)), "EINVAL");
    expect(kvm.memslots()).toEqual([]);
  });

  it("page alignment follows the configured host page size", () => {
    const kvm = new MockKvm({ hostPageSize: 0x10000 });
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0x1000n, 0x10000n)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 0x10000n, 0x10000n));
    expect(kvm.hostPageSize).toBe(0x10000);
  });

  it("userspace range: userspace_addr + size must be user memory (access_ok), else EINVAL", () => {
    const kvm = new MockKvm();
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0x2000n, 0, 0x7fff_ffff_f000n)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, 0, 0x7fff_ffff_e000n));
  });

  it("guest range: guest_phys_addr + size must not wrap around 2^64, else EINVAL", () => {
    const kvm = new MockKvm({ guestPhysBits: 64 });
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0xffff_ffff_ffff_f000n, 0x2000n)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0xffff_ffff_ffff_f000n, PAGE)), "EINVAL");
  });

  it("KVM_MEM_MAX_NR_PAGES: a slot holds at most 2^31 - 1 pages, else EINVAL", () => {
    const kvm = new MockKvm();
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 2n ** 31n * PAGE, 0, 0n)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 0n, (2n ** 31n - 1n) * PAGE, 0, 0n));
  });

  it("kvm_mmu_max_gfn: the slot's last byte must lie in the guest physical address width, else EINVAL", () => {
    const kvm = new MockKvm({ guestPhysBits: 40 });
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 2n ** 40n - PAGE, 0x2000n)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 2n ** 40n - PAGE, PAGE));
  });

  it("check_memory_region_flags: only LOG_DIRTY_PAGES and READONLY are allowed, else EINVAL", () => {
    const kvm = new MockKvm();
    for (const flags of [4, 8, 0x100, 0x8000_0000]) {
      expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, PAGE, flags)), "EINVAL");
    }
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY));
  });

  it("check_memory_region_flags: READONLY without KVM_CAP_READONLY_MEM is EINVAL", () => {
    const kvm = new MockKvm({ readonlyMem: false });
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_READONLY)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_LOG_DIRTY_PAGES));
  });

  it("overlap: a new slot overlapping another slot of the same address space is EEXIST", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0x10000n, 0x10000n));
    expectErrno(() => kvm.setUserMemoryRegion(region(1, 0x1f000n, 0x2000n)), "EEXIST");
    expectErrno(() => kvm.setUserMemoryRegion(region(1, 0x8000n, 0x20000n)), "EEXIST");
    expectErrno(() => kvm.setUserMemoryRegion(region(1, 0x10000n, 0x10000n)), "EEXIST");
    expectErrno(() => kvm.setUserMemoryRegion(region(1, 0x14000n, PAGE)), "EEXIST");
    kvm.setUserMemoryRegion(region(1, 0x20000n, PAGE));
    kvm.setUserMemoryRegion(region(2, 0xf000n, PAGE));
    expect(kvm.memslots().map((s) => s.slot)).toEqual([2, 0, 1]);
  });

  it("overlap: slots of different address spaces may share guest addresses", () => {
    const kvm = new MockKvm({ addressSpaces: 2 });
    kvm.setUserMemoryRegion(region(0, 0n, 0x10000n));
    kvm.setUserMemoryRegion(region(0x1_0000, 0n, 0x10000n));
    expect(kvm.memslots()).toHaveLength(2);
  });

  it("live slot: changing its size or userspace address is EINVAL", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 0x2000n));
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0x3000n)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0x2000n, 0, 0x7e00_0000_0000n)), "EINVAL");
    expect(kvm.memslots()).toMatchObject([{ memorySize: 0x2000n, userspaceAddr: hostAddrFor(0) }]);
  });

  it("live slot: a new guest address moves it (KVM_MR_MOVE), unless the new range overlaps another slot (EEXIST)", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 0x2000n));
    kvm.setUserMemoryRegion(region(1, 0x10000n, 0x2000n));
    kvm.setUserMemoryRegion(region(0, 0x1000n, 0x2000n));
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0xf000n, 0x2000n)), "EEXIST");
    expect(kvm.memslots().map((s) => [s.slot, s.guestPhysAddr])).toEqual([
      [0, 0x1000n],
      [1, 0x10000n],
    ]);
  });

  it("live slot: READONLY cannot change in place (EINVAL); LOG_DIRTY_PAGES can (KVM_MR_FLAGS_ONLY)", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_READONLY)), "EINVAL");
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_LOG_DIRTY_PAGES));
    expect(kvm.memslots()[0]!.flags).toBe(KVM_MEM_LOG_DIRTY_PAGES);
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, 0));
    expect(kvm.memslots()[0]!.flags).toBe(0);
    kvm.setUserMemoryRegion(region(1, PAGE, PAGE, KVM_MEM_READONLY));
    expectErrno(() => kvm.setUserMemoryRegion(region(1, PAGE, PAGE, 0)), "EINVAL");
  });

  it("live slot: the same request again changes nothing and succeeds", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_LOG_DIRTY_PAGES));
    const before = kvm.memslots();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, KVM_MEM_LOG_DIRTY_PAGES));
    expect(kvm.memslots()).toEqual(before);
  });

  it("deletion: memory_size 0 deletes the slot and frees its id and range", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, 0x4000n));
    kvm.setUserMemoryRegion(region(0, 0n, 0n));
    expect(kvm.memslots()).toEqual([]);
    kvm.setUserMemoryRegion(region(1, 0n, 0x4000n));
    kvm.setUserMemoryRegion(region(0, 0x4000n, PAGE));
    expect(kvm.memslots()).toHaveLength(2);
  });

  it("deletion: deleting a slot that is not in use is EINVAL (Linux >= 5.7: `!old || !old->npages`)", () => {
    const kvm = new MockKvm();
    expectErrno(() => kvm.setUserMemoryRegion(region(5, 0n, 0n)), "EINVAL");
  });

  it("deletion: the general checks still apply to a deletion request", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0x800n, 0n)), "EINVAL");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0n, 0x10)), "EINVAL");
    expect(kvm.memslots()).toHaveLength(1);
  });

  it("errors are KvmErrors naming the ioctl, the errno name and number", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    let caught: unknown;
    try {
      kvm.setUserMemoryRegion(region(1, 0n, PAGE));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KvmError);
    expect(caught).toMatchObject({ code: "EEXIST", errno: 17, operation: "KVM_SET_USER_MEMORY_REGION" });
    expect((caught as Error).message).toMatch(/^KVM_SET_USER_MEMORY_REGION: EEXIST: 0x0\+0x1000 overlaps slot 0/);
  });

  it("malformed arguments (values no C struct field can hold) are usage errors with a path", () => {
    const kvm = new MockKvm();
    const bad = [
      [{ ...region(0, 0n, PAGE), slot: -1 }, "region.slot"],
      [{ ...region(0, 0n, PAGE), slot: 2 ** 32 }, "region.slot"],
      [{ ...region(0, 0n, PAGE), flags: 1.5 }, "region.flags"],
      [{ ...region(0, 0n, PAGE), guestPhysAddr: -1n }, "region.guestPhysAddr"],
      [{ ...region(0, 0n, PAGE), memorySize: 2n ** 64n }, "region.memorySize"],
      [{ ...region(0, 0n, PAGE), userspaceAddr: 4096 }, "region.userspaceAddr"],
    ] as const;
    for (const [request, path] of bad) {
      expect(() => kvm.setUserMemoryRegion(request as never)).toThrow(
        expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT", path }),
      );
    }
    expect(() => kvm.setUserMemoryRegion(null as never)).toThrow(expect.objectContaining({ path: "region" }));
    expect(kvm.calls).toEqual([]);
  });
});
