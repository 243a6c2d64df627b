import { KVM_CAP, KVM_MEM_LOG_DIRTY_PAGES as LOG, KVM_MEM_READONLY as READONLY } from "../backend.js";
import { addressSpaces, type CaseBody, defineCase, region, slotLimit } from "./harness.js";
import type { ConformanceTestApi, KvmBackendFactory } from "./types.js";

/** KVM_SET_USER_MEMORY_REGION rules (virt/kvm/kvm_main.c `__kvm_set_memory_region`). */
export function memslotCases(api: ConformanceTestApi, factory: KvmBackendFactory): void {
  const it = (name: string, body: CaseBody) => defineCase(api, factory, name, body);

  it("creates a slot, toggles its dirty logging, deletes it with size 0, and reuses the id", ({
    backend,
    host,
    page,
  }) => {
    const ram = host(16n * page);
    backend.setUserMemoryRegion(region(0, 0x100000n, 16n * page, ram));
    backend.setUserMemoryRegion(region(0, 0x100000n, 16n * page, ram, LOG));
    backend.setUserMemoryRegion(region(0, 0x100000n, 16n * page, ram, 0));
    backend.setUserMemoryRegion(region(0, 0x100000n, 0n, ram));
    backend.setUserMemoryRegion(region(0, 0x200000n, 4n * page, ram));
  });

  it("slot id: the id (slot & 0xffff) must be below KVM_CAP_NR_MEMSLOTS, else EINVAL", ({
    backend,
    host,
    page,
    fails,
  }) => {
    const limit = slotLimit(backend);
    const ram = host(2n * page);
    backend.setUserMemoryRegion(region(limit - 1, 0n, page, ram));
    fails("EINVAL", () => backend.setUserMemoryRegion(region(limit, page, page, ram + page)), `slot ${limit}`);
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0xffff, page, page, ram + page)), "slot 0xffff");
  });

  it("address space: slot >> 16 must be below KVM_CAP_MULTI_ADDRESS_SPACE (1 when absent), else EINVAL", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const spaces = addressSpaces(backend);
    const ram = host(page);
    fails("EINVAL", () => backend.setUserMemoryRegion(region(spaces << 16, 0n, page, ram)), `address space ${spaces}`);
    if (spaces > 1) {
      // Address spaces are separate: the same guest range may be mapped in each.
      backend.setUserMemoryRegion(region(0, 0n, page, ram));
      backend.setUserMemoryRegion(region(1 << 16, 0n, page, ram));
    }
  });

  it("page alignment: guest_phys_addr, memory_size and userspace_addr must be page aligned, else EINVAL", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const ram = host(4n * page);
    const half = page / 2n;
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, half, page, ram)), "unaligned guest_phys_addr");
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, 0n, page + half, ram)), "unaligned memory_size");
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, 0n, page, ram + 0x10n)), "unaligned userspace_addr");
    // None of the rejected requests created the slot.
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, 0n, 0n, ram)), "delete of slot 0");
  });

  it("check_memory_region_flags: bits other than LOG_DIRTY_PAGES and READONLY are EINVAL", ({
    backend,
    host,
    page,
    fails,
  }) => {
    const ram = host(page);
    for (const flags of [8, 0x100, 0x8000_0000]) {
      fails(
        "EINVAL",
        () => backend.setUserMemoryRegion(region(0, 0n, page, ram, flags)),
        `flags 0x${flags.toString(16)}`,
      );
    }
  });

  it("check_memory_region_flags: READONLY works with KVM_CAP_READONLY_MEM and is EINVAL without it", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const ram = host(page);
    if (backend.checkExtension(KVM_CAP.READONLY_MEM) > 0) {
      backend.setUserMemoryRegion(region(0, 0n, page, ram, READONLY));
    } else {
      fails(
        "EINVAL",
        () => backend.setUserMemoryRegion(region(0, 0n, page, ram, READONLY)),
        "READONLY without the cap",
      );
    }
  });

  it("overlap: a slot overlapping another slot of the same address space is EEXIST; adjacent is fine", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const ram = host(64n * page);
    backend.setUserMemoryRegion(region(0, 16n * page, 16n * page, ram));
    const overlapping: Array<[bigint, bigint, string]> = [
      [31n * page, 2n * page, "straddling the end"],
      [15n * page, 2n * page, "straddling the start"],
      [8n * page, 32n * page, "enclosing"],
      [20n * page, page, "enclosed"],
      [16n * page, 16n * page, "identical range"],
    ];
    for (const [gpa, size, what] of overlapping) {
      fails("EEXIST", () => backend.setUserMemoryRegion(region(1, gpa, size, ram + 32n * page)), what);
    }
    backend.setUserMemoryRegion(region(1, 32n * page, page, ram + 32n * page));
    backend.setUserMemoryRegion(region(2, 15n * page, page, ram + 33n * page));
  });

  it("live slot: a new memory_size or userspace_addr is EINVAL", ({ backend, host, page, fails, expect }) => {
    const ram = host(8n * page);
    backend.setUserMemoryRegion(region(0, 0n, 2n * page, ram, LOG));
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, 0n, 4n * page, ram, LOG)), "new size");
    fails(
      "EINVAL",
      () => backend.setUserMemoryRegion(region(0, 0n, 2n * page, ram + 4n * page, LOG)),
      "new host address",
    );
    // The slot kept its size: a 2-page slot still has a one-word bitmap.
    expect(backend.getDirtyLog(0).length, "dirty bitmap bytes of the 2-page slot").toBe(8);
  });

  it("live slot: a new guest_phys_addr moves it (KVM_MR_MOVE); onto another slot it is EEXIST", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const ram = host(8n * page);
    backend.setUserMemoryRegion(region(0, 0n, 2n * page, ram));
    backend.setUserMemoryRegion(region(1, 16n * page, 2n * page, ram + 2n * page));
    backend.setUserMemoryRegion(region(0, 4n * page, 2n * page, ram));
    fails("EEXIST", () => backend.setUserMemoryRegion(region(0, 15n * page, 2n * page, ram)), "move onto slot 1");
    // The old range is free after the move.
    backend.setUserMemoryRegion(region(2, 0n, 2n * page, ram + 4n * page));
  });

  it("live slot: READONLY cannot change in place (EINVAL); LOG_DIRTY_PAGES can", ({ backend, host, page, fails }) => {
    const ram = host(2n * page);
    backend.setUserMemoryRegion(region(0, 0n, page, ram));
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    if (backend.checkExtension(KVM_CAP.READONLY_MEM) > 0) {
      fails("EINVAL", () => backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG | READONLY)), "set READONLY");
      backend.setUserMemoryRegion(region(1, page, page, ram + page, READONLY));
      fails("EINVAL", () => backend.setUserMemoryRegion(region(1, page, page, ram + page, 0)), "clear READONLY");
      backend.setUserMemoryRegion(region(1, page, page, ram + page, READONLY | LOG));
    }
  });

  it("live slot: sending the same request again succeeds and changes nothing", ({ backend, host, page }) => {
    const ram = host(page);
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    backend.setUserMemoryRegion(region(0, 0n, 0n, ram));
  });

  it("deletion: memory_size 0 on a slot that is not in use is EINVAL", ({ backend, host, fails }) => {
    const ram = host(0x1000n);
    fails("EINVAL", () => backend.setUserMemoryRegion(region(3, 0n, 0n, ram)), "delete unused slot 3");
  });

  it("guest range: guest_phys_addr + memory_size wrapping around 2^64 is EINVAL", ({ backend, host, page, fails }) => {
    const ram = host(2n * page);
    const top = (1n << 64n) - page;
    fails("EINVAL", () => backend.setUserMemoryRegion(region(0, top, 2n * page, ram)), "wrapping range");
  });

  it("a rejected request changes nothing: the id stays free and the range stays taken", (ctx) => {
    const { backend, host, page, fails } = ctx;
    const ram = host(4n * page);
    backend.setUserMemoryRegion(region(0, 0n, 2n * page, ram));
    fails("EEXIST", () => backend.setUserMemoryRegion(region(1, page, 2n * page, ram + 2n * page)), "overlap");
    fails("EINVAL", () => backend.setUserMemoryRegion(region(1, 0n, 0n, ram)), "slot 1 was not created");
    fails("EEXIST", () => backend.setUserMemoryRegion(region(2, 0n, page, ram + 2n * page)), "slot 0 still there");
  });
}
