import { KVM_CAP, KVM_MEM_LOG_DIRTY_PAGES as LOG, KVM_MEM_READONLY as READONLY } from "../backend.js";
import { type CaseBody, defineCase, dirtyPages, region, slotLimit } from "./harness.js";
import type { ConformanceTestApi, KvmBackendFactory } from "./types.js";

/** KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG rules (kvm_main.c `kvm_get_dirty_log_protect`, `kvm_clear_dirty_log_protect`). */
export function dirtyLogCases(api: ConformanceTestApi, factory: KvmBackendFactory): void {
  const it = (name: string, body: CaseBody) => defineCase(api, factory, name, body);
  const guestIt = (name: string, body: CaseBody) => defineCase(api, factory, name, body, true);

  it("bitmap size: one bit per page rounded up to 64-bit words, and a new slot's bitmap is clear", (ctx) => {
    const { backend, host, page, expect } = ctx;
    const ram = host(200n * page);
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    backend.setUserMemoryRegion(region(1, 0x100000n, 64n * page, ram + page, LOG));
    backend.setUserMemoryRegion(region(2, 0x200000n, 65n * page, ram + 65n * page, LOG));
    expect(backend.getDirtyLog(0).length, "1 page").toBe(8);
    expect(backend.getDirtyLog(1).length, "64 pages").toBe(8);
    const bitmap = backend.getDirtyLog(2);
    expect(bitmap.length, "65 pages").toBe(16);
    expect(dirtyPages(bitmap), "fresh bitmap").toEqual([]);
  });

  it("ENOENT for a slot without LOG_DIRTY_PAGES and for an unused slot; EINVAL for an id out of range", (ctx) => {
    const { backend, host, page, fails } = ctx;
    backend.setUserMemoryRegion(region(0, 0n, page, host(page)));
    fails("ENOENT", () => backend.getDirtyLog(0), "slot without LOG_DIRTY_PAGES");
    fails("ENOENT", () => backend.getDirtyLog(1), "unused slot");
    fails("EINVAL", () => backend.getDirtyLog(slotLimit(backend)), "slot id at the limit");
  });

  it("a slot that stops logging has no bitmap (ENOENT); logging again starts clean", (ctx) => {
    const { backend, host, page, fails, expect } = ctx;
    const ram = host(page);
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    backend.setUserMemoryRegion(region(0, 0n, page, ram, 0));
    fails("ENOENT", () => backend.getDirtyLog(0), "after logging stopped");
    backend.setUserMemoryRegion(region(0, 0n, page, ram, LOG));
    expect(dirtyPages(backend.getDirtyLog(0)), "restarted bitmap").toEqual([]);
  });

  it("KVM_CLEAR_DIRTY_LOG: first_page must be a multiple of 64 (EINVAL); a slot that does not log is ENOENT", (ctx) => {
    const { backend, host, page, fails, expect } = ctx;
    const clear = backend.clearDirtyLog?.bind(backend);
    if (clear === undefined) {
      // Without the method the backend must not advertise manual dirty-log protection.
      expect(
        backend.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2),
        "MANUAL_DIRTY_LOG_PROTECT2 without clearDirtyLog",
      ).toBe(0);
      return;
    }
    const ram = host(129n * page);
    backend.setUserMemoryRegion(region(0, 0n, 128n * page, ram, LOG));
    backend.setUserMemoryRegion(region(1, 0x1000000n, page, ram + 128n * page));
    fails("EINVAL", () => clear(0, 1n, 64, new Uint8Array(8)), "first_page 1");
    fails("EINVAL", () => clear(0, 128n, 64, new Uint8Array(8)), "range beyond the slot");
    fails("ENOENT", () => clear(1, 0n, 1, new Uint8Array(8)), "slot without LOG_DIRTY_PAGES");
    clear(0, 64n, 64, new Uint8Array(8));
  });

  guestIt("guest writes set their pages' bits; a read returns them and clears them", async (ctx) => {
    const { backend, host, page, guest, expect } = ctx;
    const base = 0x100000n;
    backend.setUserMemoryRegion(region(0, base, 80n * page, host(80n * page), LOG));
    await guest.write(base, 1n, 1);
    await guest.write(base + 2n * page + 8n, 0x1234n, 2);
    await guest.write(base + 70n * page, 0xffn, 1);
    expect(dirtyPages(backend.getDirtyLog(0)), "first read").toEqual([0, 2, 70]);
    expect(dirtyPages(backend.getDirtyLog(0)), "second read").toEqual([]);
  });

  guestIt("a guest write to a writable slot lands in the host memory behind it", async (ctx) => {
    const { env, backend, page, guest, expect } = ctx;
    const block = env.ram.allocate("conformance", 4n * page);
    backend.setUserMemoryRegion(region(0, 0x100000n, 2n * page, block.hostAddr + 2n * page));
    expect(await guest.write(0x100000n + 0x10n, 0x1122_3344n, 4), "store to RAM").toBe("none");
    const at = Number(2n * page) + 0x10;
    expect([...block.bytes().subarray(at, at + 4)], "host bytes").toEqual([0x44, 0x33, 0x22, 0x11]);
  });

  guestIt("a guest write to a read-only slot exits to userspace and leaves memory unchanged", async (ctx) => {
    const { env, backend, page, guest, expect, fails } = ctx;
    const block = env.ram.allocate("conformance", page);
    if (backend.checkExtension(KVM_CAP.READONLY_MEM) === 0) {
      fails(
        "EINVAL",
        () => backend.setUserMemoryRegion(region(0, 0x100000n, page, block.hostAddr, READONLY)),
        "READONLY",
      );
      return;
    }
    backend.setUserMemoryRegion(region(0, 0x100000n, page, block.hostAddr, READONLY));
    expect(await guest.write(0x100000n, 0xabn, 1), "store to ROM").toBe("exit");
    expect(block.bytes()[0], "host byte").toBe(0);
  });

  guestIt("a guest write where no slot is mapped exits to userspace", async ({ guest, expect }) => {
    expect(await guest.write(0xd000_0000n, 1n, 4), "store to unbacked address").toBe("exit");
  });
}
