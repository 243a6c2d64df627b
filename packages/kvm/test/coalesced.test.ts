import { describe, expect, it } from "vitest";
import { attachKvm, KVM_CAP, KvmCoalescedPioListener, KvmError, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

const io = { ...section(null as never, 0x70n, 1n), mr: null };

describe("coalesced MMIO/PIO in KVM (kvm_coalesce_mmio_region/kvm_coalesce_pio_add)", () => {
  it("the memory listener turns coalesced_io_add/del into MMIO zones, the size cut to 32 bits", () => {
    const kvm = new RecordingBackend();
    kvm.caps.set(KVM_CAP.COALESCED_MMIO, 2);
    const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 });
    listener.coalescedIoAdd(io, 0xfed00000n, 0x400n);
    listener.coalescedIoAdd(io, 0x1_0000_0000n, 0x1_0000_1000n);
    listener.coalescedIoDel(io, 0xfed00000n, 0x400n);
    expect(kvm.zones).toEqual(["+mmio fed00000+400", "+mmio 100000000+1000", "-mmio fed00000+400"]);
  });

  it("without KVM_CAP_COALESCED_MMIO nothing is registered; without KVM_CAP_COALESCED_PIO no PIO zone", () => {
    const kvm = new RecordingBackend();
    new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 }).coalescedIoAdd(io, 0x1000n, 4n);
    kvm.caps.set(KVM_CAP.COALESCED_MMIO, 2);
    new KvmCoalescedPioListener(kvm).coalescedIoAdd(io, 0x70n, 1n);
    expect(kvm.zones).toEqual([]);
    kvm.caps.set(KVM_CAP.COALESCED_PIO, 1);
    const pio = new KvmCoalescedPioListener(kvm);
    pio.coalescedIoAdd(io, 0x70n, 1n);
    pio.coalescedIoDel(io, 0x70n, 1n);
    expect(kvm.zones).toEqual(["+pio 70+1", "-pio 70+1"]);
    expect({ name: pio.name, priority: pio.priority }).toEqual({ name: "kvm-coalesced-pio", priority: 0 });
  });

  it("a refused zone is ignored, as QEMU ignores the ioctl's return value", () => {
    const kvm = new RecordingBackend();
    kvm.caps.set(KVM_CAP.COALESCED_MMIO, 2);
    kvm.registerCoalescedMmio = () => {
      throw new KvmError("ENOSPC", "KVM_REGISTER_COALESCED_MMIO", "bus full");
    };
    const listener = new KvmMemoryListener(kvm, { dirtyLogMask: () => 0 });
    expect(() => listener.coalescedIoAdd(io, 0x1000n, 4n)).not.toThrow();
  });

  it("attachKvm registers memory, I/O eventfd and coalesced-PIO listeners in QEMU's order and hands over the ring", () => {
    const kvm = new RecordingBackend();
    kvm.caps.set(KVM_CAP.COALESCED_MMIO, 2);
    const drained = [{ physAddr: 0x70n, data: Uint8Array.of(1), pio: true }];
    let ring = [...drained];
    Object.assign(kvm, {
      takeCoalescedWrites: () => {
        const out = ring;
        ring = [];
        return out;
      },
    });
    const names: string[] = [];
    let source: { take(): readonly unknown[]; memory: string; io: string | null } | null = null;
    const system = {
      dirtyLogMask: () => 0,
      registerListener: (l: { name?: string }, as: string) => void names.push(`${l.name}@${as}`),
      setCoalescedMmioSource: (s: typeof source) => {
        source = s;
      },
    };
    const attached = attachKvm(system, kvm, { memory: "memory", io: "I/O" });
    expect(names).toEqual(["kvm-memory@memory", "kvm-io@I/O", "kvm-coalesced-pio@I/O"]);
    expect(attached.coalescedPio).not.toBeNull();
    expect(source!.memory).toBe("memory");
    expect(source!.io).toBe("I/O");
    expect(source!.take()).toEqual(drained);
    expect(source!.take()).toEqual([]);
  });
});
