import { KVM_CAP, KVM_MEM_LOG_DIRTY_PAGES as LOG } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { MockKvm } from "../src/index.js";
import { expectErrno, PAGE, region } from "./helpers.js";

describe("call log", () => {
  it("records every backend call in order with its result or errno", () => {
    const kvm = new MockKvm();
    kvm.checkExtension(KVM_CAP.NR_MEMSLOTS);
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, LOG));
    expectErrno(() => kvm.setUserMemoryRegion(region(1, 0n, PAGE)), "EEXIST");
    kvm.getDirtyLog(0);
    expect(kvm.calls).toEqual([
      { method: "checkExtension", args: [KVM_CAP.NR_MEMSLOTS], result: 32764 },
      { method: "setUserMemoryRegion", args: [region(0, 0n, PAGE, LOG)] },
      { method: "setUserMemoryRegion", args: [region(1, 0n, PAGE)], errno: "EEXIST" },
      { method: "getDirtyLog", args: [0], result: new Uint8Array(8) },
    ]);
    kvm.clearCalls();
    expect(kvm.calls).toEqual([]);
  });

  it("records a copy of the request, not the caller's object", () => {
    const kvm = new MockKvm();
    const request = { ...region(0, 0n, PAGE) };
    kvm.setUserMemoryRegion(request);
    request.guestPhysAddr = 0x5000n;
    expect(kvm.calls[0]!.args[0]).toMatchObject({ guestPhysAddr: 0n });
  });
});

describe("fault injection", () => {
  it("failNext(method, errno) fails the next call of that method with that errno, once", () => {
    const kvm = new MockKvm();
    kvm.failNext("setUserMemoryRegion", "ENOMEM");
    kvm.checkExtension(KVM_CAP.IOEVENTFD);
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, PAGE)), "ENOMEM");
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expect(kvm.calls.map((c) => [c.method, c.errno, c.injected])).toEqual([
      ["checkExtension", undefined, undefined],
      ["setUserMemoryRegion", "ENOMEM", true],
      ["setUserMemoryRegion", undefined, undefined],
    ]);
  });

  it("an injected failure changes nothing", () => {
    const kvm = new MockKvm();
    kvm.setUserMemoryRegion(region(0, 0n, PAGE, LOG));
    kvm.guestWrite(0n, 1n, 1);
    kvm.failNext("setUserMemoryRegion", "EFAULT");
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0n)), "EFAULT");
    kvm.failNext("getDirtyLog", "EFAULT");
    expectErrno(() => kvm.getDirtyLog(0), "EFAULT");
    expect(kvm.memslots()).toHaveLength(1);
    expect(kvm.getDirtyLog(0)[0]).toBe(1);
  });

  it("{after: n} lets n matching calls through first", () => {
    const kvm = new MockKvm();
    kvm.failNext("setUserMemoryRegion", "EIO", { after: 2 });
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    kvm.checkExtension(1);
    kvm.setUserMemoryRegion(region(1, PAGE, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(2, 2n * PAGE, PAGE)), "EIO");
    expect(kvm.memslots().map((s) => s.slot)).toEqual([0, 1]);
  });

  it("a predicate chooses the call", () => {
    const kvm = new MockKvm();
    kvm.failNext(
      (call) => call.method === "setUserMemoryRegion" && (call.args[0] as { memorySize: bigint }).memorySize === 0n,
      "EBUSY",
    );
    kvm.setUserMemoryRegion(region(0, 0n, PAGE));
    expectErrno(() => kvm.setUserMemoryRegion(region(0, 0n, 0n)), "EBUSY");
    kvm.setUserMemoryRegion(region(0, 0n, 0n));
    expect(kvm.memslots()).toEqual([]);
  });

  it("the injected error carries the errno number where it is known", () => {
    const kvm = new MockKvm();
    kvm.failNext("ioeventfd", "ENOSPC");
    expect(() =>
      kvm.ioeventfd({ notifier: kvm.createEventNotifier(), addr: 0n, len: 4, flags: 0, datamatch: 0n }),
    ).toThrow(expect.objectContaining({ code: "ENOSPC", errno: 28, operation: "KVM_IOEVENTFD" }));
    expect(kvm.ioeventfds()).toEqual([]);
  });

  it("clearFaults disarms pending faults", () => {
    const kvm = new MockKvm();
    kvm.failNext("checkExtension", "EIO");
    kvm.clearFaults();
    expect(kvm.checkExtension(KVM_CAP.USER_MEMORY)).toBe(1);
  });

  it("bad fault requests are usage errors", () => {
    const kvm = new MockKvm();
    const usage = expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT" });
    expect(() => kvm.failNext("run" as never, "EIO")).toThrow(usage);
    expect(() => kvm.failNext("ioeventfd", "eio")).toThrow(usage);
    expect(() => kvm.failNext("ioeventfd", "EIO", { after: -1 })).toThrow(usage);
  });
});
