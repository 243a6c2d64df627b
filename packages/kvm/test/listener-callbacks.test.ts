import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type KvmDirtyGfn, KvmIoListener, KvmMemoryListener } from "../src/index.js";
import { RecordingBackend, section } from "./fake-backend.js";

const mask = { dirtyLogMask: (mr: MemoryRegion) => mr.dirtyLogMask };
const notifier = { id: 7, signal: () => {} };

/** A backend with a dirty ring that is always empty. */
class RingBackend extends RecordingBackend {
  readonly dirtyRingSize = 4096;
  reapDirtyRings(): KvmDirtyGfn[] {
    return [];
  }
  resetDirtyRings(): number {
    return 0;
  }
}

describe("a KVM listener has exactly the callbacks QEMU sets for its configuration (kvm_init, kvm_memory_listener_register)", () => {
  it("the memory listener without ioeventfds has no eventfd_add/eventfd_del at all, so the bus never calls it for them", () => {
    const listener = new KvmMemoryListener(new RecordingBackend(), mask);
    expect("eventfdAdd" in listener).toBe(false);
    expect("eventfdDel" in listener).toBe(false);
  });

  it("the memory listener with ioeventfds and the I/O listener carry the same pair, each an MMIO or a PIO KVM_IOEVENTFD", () => {
    const kvm = new RecordingBackend();
    const memory = new KvmMemoryListener(kvm, mask, { ioeventfds: true });
    const io = new KvmIoListener(kvm);
    const host = new StandaloneHost();
    const mr = new MemoryRegion(host, { kind: "io", name: "bar", size: 0x1000n });
    for (const l of [memory, io]) {
      expect(typeof l.eventfdAdd).toBe("function");
      expect(typeof l.eventfdDel).toBe("function");
    }
    memory.eventfdAdd!(section(mr, 0xfe00_0000n, 4n), true, 1n, notifier);
    io.eventfdAdd(section(mr, 0xc010n, 2n), true, 1n, notifier);
    memory.eventfdDel!(section(mr, 0xfe00_0000n, 4n), true, 1n, notifier);
    io.eventfdDel(section(mr, 0xc010n, 2n), true, 1n, notifier);
    // DATAMATCH 1, PIO 2, DEASSIGN 4.
    expect(kvm.ioeventfds.map((r) => `${r.addr.toString(16)}/${r.len} f${r.flags}`)).toEqual([
      "fe000000/4 f1",
      "c010/2 f3",
      "fe000000/4 f5",
      "c010/2 f7",
    ]);
  });

  it("without a dirty ring: log_sync and no log_sync_global; with one: log_sync_global and no log_sync", () => {
    const plain = new KvmMemoryListener(new RecordingBackend(), mask);
    expect(typeof plain.logSync).toBe("function");
    expect("logSyncGlobal" in plain).toBe(false);
    const ring = new KvmMemoryListener(new RingBackend(), mask);
    expect(typeof ring.logSyncGlobal).toBe("function");
    expect("logSync" in ring).toBe(false);
    ring.logSyncGlobal!(false);
  });
});
