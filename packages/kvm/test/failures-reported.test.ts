import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { KvmAggregateError, KvmError, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

// Where QEMU aborts at the first failed ioctl, the listener tries every call of the pass and then
// reports all that failed, as the listener bus reports every callback that threw.

function splitSetup() {
  const host = new StandaloneHost();
  const kvm = new RecordingBackend();
  const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }, { maxSlotSize: 0x2000n });
  const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
  return { kvm, listener, ram };
}

describe("every failed kernel call of a pass is reported", () => {
  it("one refused chunk of three is thrown as the KvmError itself", () => {
    const { kvm, listener, ram } = splitSetup();
    kvm.refuse.setUserMemoryRegion = 1;
    let thrown: unknown;
    try {
      listener.regionAdd(section(ram, 0n, 0x6000n));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KvmError);
    expect(thrown).not.toBeInstanceOf(KvmAggregateError);
  });

  it("two refused chunks of three give one KvmAggregateError holding both, with the first's code, and the third chunk is made", () => {
    const { kvm, listener, ram } = splitSetup();
    kvm.refuse.setUserMemoryRegion = 2;
    let thrown: unknown;
    try {
      listener.regionAdd(section(ram, 0n, 0x6000n));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KvmAggregateError);
    const aggregate = thrown as KvmAggregateError;
    expect(aggregate).toBeInstanceOf(KvmError);
    expect(aggregate.code).toBe("EIO");
    expect(aggregate.operation).toBe("setUserMemoryRegion");
    expect(aggregate.failures).toHaveLength(2);
    expect(aggregate.failures.every((f) => f instanceof KvmError && f.code === "EIO")).toBe(true);
    expect(aggregate.cause).toBe(aggregate.failures[0]);
    expect(aggregate.message).toMatch(/then 1 more/);
    expect(kvm.log).toEqual(["0 4000+2000 f0"]);
    expect(listener.outOfSync.missingSlots).toHaveLength(2);
  });

  it("a retry in which both refused chunks fail again reports both again; the next retry makes them", () => {
    const { kvm, listener, ram } = splitSetup();
    kvm.refuse.setUserMemoryRegion = 2;
    expect(() => listener.regionAdd(section(ram, 0n, 0x6000n))).toThrow(KvmAggregateError);
    kvm.refuse.setUserMemoryRegion = 2;
    expect(() => listener.begin()).toThrow(
      expect.objectContaining({ failures: [expect.any(KvmError), expect.any(KvmError)] }),
    );
    listener.begin();
    expect(listener.hasMemory(0n, 0x6000n)).toBe(true);
  });
});
