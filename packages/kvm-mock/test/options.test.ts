import { KVM_CAP, KVM_MEM_LOG_DIRTY_PAGES as LOG, KVM_MEM_READONLY as READONLY } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { PAGE, region } from "./helpers.js";

describe("capabilities (KVM_CHECK_EXTENSION)", () => {
  it("defaults are the measured x86-64 host's", () => {
    const kvm = new MockKvm();
    expect(kvm.checkExtension(KVM_CAP.NR_MEMSLOTS)).toBe(32764);
    expect(kvm.checkExtension(KVM_CAP.READONLY_MEM)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP.IOEVENTFD)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP.IOEVENTFD_ANY_LENGTH)).toBe(1);
    expect(kvm.checkExtension(KVM_CAP.MULTI_ADDRESS_SPACE)).toBe(0);
    expect(kvm.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2)).toBe(3);
    expect(kvm.checkExtension(KVM_CAP.COALESCED_MMIO)).toBe(2);
    expect(kvm.checkExtension(KVM_CAP.USER_MEMORY)).toBe(1);
    expect(kvm.checkExtension(9999)).toBe(0);
    expect(kvm.hostPageSize).toBe(4096);
    expect(kvm.name).toBe("mock");
  });

  it("an older kernel: no read-only memory, no any-length ioeventfds, 509 slots, no manual protect", () => {
    const kvm = new MockKvm({
      readonlyMem: false,
      ioeventfdAnyLength: false,
      nrMemslots: 509,
      manualDirtyLogProtect: 0,
    });
    expect(kvm.checkExtension(KVM_CAP.READONLY_MEM)).toBe(0);
    expect(kvm.checkExtension(KVM_CAP.IOEVENTFD_ANY_LENGTH)).toBe(0);
    expect(kvm.checkExtension(KVM_CAP.NR_MEMSLOTS)).toBe(509);
    expect(kvm.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2)).toBe(0);
  });

  it("no ioeventfd support implies no any-length support", () => {
    const kvm = new MockKvm({ ioeventfd: false });
    expect(kvm.checkExtension(KVM_CAP.IOEVENTFD)).toBe(0);
    expect(kvm.checkExtension(KVM_CAP.IOEVENTFD_ANY_LENGTH)).toBe(0);
  });

  it("two address spaces (x86 with SMM) report KVM_CAP_MULTI_ADDRESS_SPACE = 2", () => {
    expect(new MockKvm({ addressSpaces: 2 }).checkExtension(KVM_CAP.MULTI_ADDRESS_SPACE)).toBe(2);
  });

  it("extensions set capabilities the options do not cover", () => {
    const kvm = new MockKvm({ extensions: { [KVM_CAP.COALESCED_MMIO]: 0, 200: 7 } });
    expect(kvm.checkExtension(KVM_CAP.COALESCED_MMIO)).toBe(0);
    expect(kvm.checkExtension(200)).toBe(7);
  });

  it("bad options are usage errors naming the option", () => {
    const cases: Array<[object, string]> = [
      [{ nrMemslots: 0 }, "options.nrMemslots"],
      [{ nrMemslots: 1.5 }, "options.nrMemslots"],
      [{ readonlyMem: "yes" }, "options.readonlyMem"],
      [{ addressSpaces: 0 }, "options.addressSpaces"],
      [{ hostPageSize: 6000 }, "options.hostPageSize"],
      [{ hostPageSize: 1024 }, "options.hostPageSize"],
      [{ userspaceLimit: -1n }, "options.userspaceLimit"],
      [{ manualDirtyLogProtect: 4 }, "options.manualDirtyLogProtect"],
      [{ extensions: { x: 1 } }, "options.extensions.x"],
      [{ extensions: { 5: 1.5 } }, "options.extensions.5"],
    ];
    for (const [options, path] of cases) {
      expect(() => new MockKvm(options)).toThrow(expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT", path }));
    }
    expect(() => new MockKvm(null as never)).toThrow(expect.objectContaining({ path: "options" }));
  });

  it("a bad capability number is a usage error", () => {
    expect(() => new MockKvm().checkExtension(-1)).toThrow(expect.objectContaining({ path: "cap" }));
  });
});

describe("snapshots", () => {
  it("slotSnapshot: kvm-slots.json entries sorted by gpa, flags readonly then log-dirty-pages", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0xfffc0000n, 0x40000n, READONLY));
    kvm.setUserMemoryRegion(region(1, 0n, 0xa0000n));
    kvm.setUserMemoryRegion(region(2, 0xfd000000n, 0x1000000n, LOG));
    kvm.setUserMemoryRegion(region(3, 0xc0000n, PAGE, READONLY | LOG));
    expect(kvm.slotSnapshot()).toEqual([
      { gpa: "0x0", size: "0xa0000", flags: [] },
      { gpa: "0xc0000", size: "0x1000", flags: ["readonly", "log-dirty-pages"] },
      { gpa: "0xfd000000", size: "0x1000000", flags: ["log-dirty-pages"] },
      { gpa: "0xfffc0000", size: "0x40000", flags: ["readonly"] },
    ]);
  });

  it("slotSnapshot: when a slot lies outside address space 0, every entry carries `as`", () => {
    const kvm = new MockKvm({ addressSpaces: 2 });
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    kvm.setUserMemoryRegion(region(0x1_0000, 0n, PAGE));
    expect(kvm.slotSnapshot()).toEqual([
      { gpa: "0x0", size: "0x1000", flags: [], as: "memory" },
      { gpa: "0x0", size: "0x1000", flags: [], as: "KVM-SMRAM" },
    ]);
  });

  it("ioeventfdSnapshot: kvm-ioeventfds.json entries sorted by space, addr, size, datamatch, data", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    kvm.ioeventfd({ notifier: n, addr: 0xc110n, len: 2, flags: 2 | 1, datamatch: 1n });
    kvm.ioeventfd({ notifier: n, addr: 0xc110n, len: 2, flags: 2 | 1, datamatch: 0n });
    kvm.ioeventfd({ notifier: n, addr: 0xfe003000n, len: 0, flags: 0, datamatch: 0n });
    kvm.ioeventfd({ notifier: n, addr: 0xc100n, len: 2, flags: 2, datamatch: 0n });
    expect(kvm.ioeventfdSnapshot()).toEqual([
      { space: "mmio", addr: "0xfe003000", size: 0, datamatch: false, data: "0x0" },
      { space: "pio", addr: "0xc100", size: 2, datamatch: false, data: "0x0" },
      { space: "pio", addr: "0xc110", size: 2, datamatch: true, data: "0x0" },
      { space: "pio", addr: "0xc110", size: 2, datamatch: true, data: "0x1" },
    ]);
  });
});
