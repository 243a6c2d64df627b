import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { notifier, recorder } from "./recorder.js";

// memory_region_transaction_commit with only ioeventfd_update_pending: QEMU runs
// address_space_update_ioeventfds on every space in creation order (eventfd_del, then eventfd_add;
// no begin/commit). memtopo visits only the spaces whose view can show the changed region; the
// calls must be the same as QEMU's.

function machine() {
  const sys = new MemorySystem({ accel: "kvm" });
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  const bar = new MemoryRegion(sys, { kind: "io", name: "bar", size: 0x1000n, ops: {} });
  const port = new MemoryRegion(sys, { kind: "io", name: "port", size: 0x10n, ops: {} });
  system.addSubregion(0x100000n, bar);
  system.addSubregion(0x200000n, new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x1000n }));
  io.addSubregion(0xc000n, port);
  io.addSubregion(0x0n, new MemoryRegion(sys, { kind: "io", name: "pic", size: 0x2n, ops: {} }));
  const memory = sys.createAddressSpace("memory", system);
  const ioSpace = sys.createAddressSpace("I/O", io);
  const cpu = sys.createAddressSpace("cpu-memory", system);
  return { sys, bar, port, memory, ioSpace, cpu };
}

describe("ioeventfd-only commits (address_space_update_ioeventfds per space, in creation order)", () => {
  it("a doorbell added to a BAR seen by two spaces: eventfd_add in each of them in creation order, none in the other space", () => {
    const { sys, bar, memory, ioSpace, cpu } = machine();
    const log: string[] = [];
    sys.registerListener(recorder(log, "memory"), memory);
    sys.registerListener(recorder(log, "io"), ioSpace);
    sys.registerListener(recorder(log, "cpu"), cpu);
    log.length = 0;
    const e = notifier();
    bar.addEventfd(0x10n, 4, false, 0n, e);
    expect(log).toEqual([`memory:eventfd_add 100010/4 e${e.id}`, `cpu:eventfd_add 100010/4 e${e.id}`]);
    expect(memory.ioeventfds.map((r) => r.start)).toEqual([0x100010n]);
    expect(ioSpace.ioeventfds).toEqual([]);
  });

  it("one transaction changing regions in two views: dels before adds within each space, spaces in creation order", () => {
    const { sys, bar, port, memory, ioSpace, cpu } = machine();
    const a = notifier();
    const b = notifier();
    bar.addEventfd(0x10n, 4, false, 0n, a);
    const log: string[] = [];
    sys.registerListener(recorder(log, "memory"), memory);
    sys.registerListener(recorder(log, "io"), ioSpace);
    sys.registerListener(recorder(log, "cpu"), cpu);
    log.length = 0;
    sys.begin();
    port.addEventfd(0x4n, 2, true, 1n, b);
    bar.delEventfd(0x10n, 4, false, 0n, a);
    bar.addEventfd(0x20n, 4, false, 0n, a);
    sys.commit();
    expect(log).toEqual([
      `memory:eventfd_del 100010/4 e${a.id}`,
      `memory:eventfd_add 100020/4 e${a.id}`,
      `io:eventfd_add c004/2=1 e${b.id}`,
      `cpu:eventfd_del 100010/4 e${a.id}`,
      `cpu:eventfd_add 100020/4 e${a.id}`,
    ]);
  });

  it("ioeventfdsChanged names a region of this system: anything else is refused with nothing made pending", () => {
    const { sys } = machine();
    const other = new MemorySystem({ accel: "kvm" });
    const foreign = new MemoryRegion(other, { kind: "io", name: "x", size: 0x10n, ops: {} });
    sys.begin();
    expect(() => sys.ioeventfdsChanged({} as MemoryRegion)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => sys.ioeventfdsChanged(foreign)).toThrow(expect.objectContaining({ code: "E_FOREIGN_REGION" }));
    expect(sys.ioeventfdPending).toBe(false);
    sys.commit();
  });
});
