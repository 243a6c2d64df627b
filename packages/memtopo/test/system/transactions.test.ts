import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { notifier, recorder } from "./recorder.js";

function machine() {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x10000n });
  system.addSubregion(0n, ram);
  const memory = sys.createAddressSpace("memory", system);
  const log: string[] = [];
  sys.registerListener(recorder(log, "L"), memory);
  log.length = 0;
  return { sys, system, ram, memory, log };
}

describe("transactions (memory_region_transaction_begin/_commit)", () => {
  it("nested begin/commit only count: nothing happens before the outermost commit", () => {
    const { sys, system, log, memory } = machine();
    const before = memory.currentMap;
    sys.begin();
    sys.begin();
    system.addSubregion(0x100000n, new MemoryRegion(sys, { kind: "ram", name: "a", size: 0x1000n }));
    sys.commit();
    expect(log).toEqual([]);
    expect(memory.currentMap).toBe(before);
    expect(sys.topologyPending).toBe(true);
    sys.commit();
    expect(log).toEqual(["L:begin", "L:nop 0-10000 ram@0", "L:add 100000-101000 a@0", "L:commit"]);
    expect(sys.depth).toBe(0);
    expect(sys.topologyPending).toBe(false);
  });

  it("an outermost commit with nothing pending does nothing, not even begin/commit", () => {
    const { sys, log, memory } = machine();
    const before = memory.currentMap;
    sys.begin();
    sys.commit();
    expect(log).toEqual([]);
    expect(memory.currentMap).toBe(before);
  });

  it("commit without begin is a typed error and changes nothing", () => {
    const { sys } = machine();
    expect(() => sys.commit()).toThrow(expect.objectContaining({ code: "E_COMMIT_WITHOUT_BEGIN" }));
    expect(sys.depth).toBe(0);
  });

  it("every topology commit gives every listening space QEMU's full diff, even where nothing changed (address_space_update_topology)", () => {
    const { sys, system, memory, log } = machine();
    const other = new MemoryRegion(sys, { kind: "container", name: "other", size: 0x1000n });
    other.addSubregion(0n, new MemoryRegion(sys, { kind: "io", name: "x", size: 0x10n }));
    other.addSubregion(0x100n, new MemoryRegion(sys, { kind: "io", name: "y", size: 0x10n }));
    const as2 = sys.createAddressSpace("other", other);
    sys.registerListener(recorder(log, "O"), as2);
    log.length = 0;
    const v1 = memory.currentMap;
    const v2 = as2.currentMap;
    system.addSubregion(0x200000n, new MemoryRegion(sys, { kind: "ram", name: "b", size: 0x1000n }));
    expect(memory.currentMap).not.toBe(v1);
    // QEMU renders an equal new view for "other" and its listeners hear region_nop for every
    // range; memtopo keeps the untouched view object and tells them the same.
    expect(as2.currentMap.ranges).toEqual(v2.ranges);
    expect(log).toEqual([
      "L:begin",
      "O:begin",
      "L:nop 0-10000 ram@0",
      "L:add 200000-201000 b@0",
      "O:nop 0-10 x@0",
      "O:nop 100-110 y@0",
      "L:commit",
      "O:commit",
    ]);
  });

  it("spaces no change can reach are left alone; the ones it reaches hear it in creation order (address_space_update_topology)", () => {
    const { sys, system, memory, log } = machine();
    // Bus-master spaces as PCI devices have them: a container with a disabled alias of system.
    const masters = ["d0", "d1", "d2", "d3"].map((name) => {
      const container = new MemoryRegion(sys, { kind: "container", name: `${name}-bm`, size: SIZE_2_64 });
      const alias = new MemoryRegion(sys, {
        kind: "alias",
        name: `${name}-bm-alias`,
        size: SIZE_2_64,
        target: system,
        offset: 0n,
      });
      alias.setEnabled(false);
      container.addSubregion(0n, alias);
      const as = sys.createAddressSpace(name, container);
      sys.registerListener(recorder(log, name), as);
      return { as, alias };
    });
    log.length = 0;
    // Bus mastering on for d3, then d1, in one transaction: their roots now resolve to
    // system and share memory's view; d0 and d2 still see nothing and hear nothing.
    sys.begin();
    masters[3]!.alias.setEnabled(true);
    masters[1]!.alias.setEnabled(true);
    sys.commit();
    expect(masters[1]!.as.currentMap).toBe(memory.currentMap);
    expect(masters[3]!.as.currentMap).toBe(memory.currentMap);
    expect(masters[0]!.as.currentMap.ranges).toEqual([]);
    expect(log).toEqual([
      "L:begin",
      "d0:begin",
      "d1:begin",
      "d2:begin",
      "d3:begin",
      // memory's view is untouched, but its listener has region_nop: QEMU tells it every range.
      "L:nop 0-10000 ram@0",
      "d1:add 0-10000 ram@0",
      "d3:add 0-10000 ram@0",
      "L:commit",
      "d0:commit",
      "d1:commit",
      "d2:commit",
      "d3:commit",
    ]);
  });

  it("many changes in one transaction give one diff; delete-then-re-add at the same place gives only region_nop (memory_region_transaction_commit)", () => {
    const { sys, system, ram, log } = machine();
    sys.begin();
    system.delSubregion(ram);
    const tmp = new MemoryRegion(sys, { kind: "ram", name: "tmp", size: 0x1000n });
    system.addSubregion(0x50000n, tmp);
    system.delSubregion(tmp);
    system.addSubregion(0n, ram);
    sys.commit();
    expect(log).toEqual(["L:begin", "L:nop 0-10000 ram@0", "L:commit"]);
  });

  it("a listener registered mid-transaction gets the pre-transaction view at once, then the common diff (memory_listener_register)", () => {
    const { sys, system, memory, log } = machine();
    sys.begin();
    system.addSubregion(0x100000n, new MemoryRegion(sys, { kind: "ram", name: "a", size: 0x1000n }));
    sys.registerListener(recorder(log, "M", 1), memory);
    expect(log).toEqual(["M:begin", "M:add 0-10000 ram@0", "M:commit"]);
    log.length = 0;
    sys.commit();
    expect(log).toEqual([
      "L:begin",
      "M:begin",
      "L:nop 0-10000 ram@0",
      "M:nop 0-10000 ram@0",
      "L:add 100000-101000 a@0",
      "M:add 100000-101000 a@0",
      "L:commit",
      "M:commit",
    ]);
  });

  it("a listener unregistered mid-transaction gets region_del for the pre-transaction view and nothing at the commit (memory_listener_register)", () => {
    const { sys, system, memory, log } = machine();
    const m = recorder(log, "M", 1);
    sys.registerListener(m, memory);
    log.length = 0;
    sys.begin();
    system.addSubregion(0x100000n, new MemoryRegion(sys, { kind: "ram", name: "a", size: 0x1000n }));
    sys.unregisterListener(m);
    sys.commit();
    expect(log.filter((l) => l.startsWith("M:"))).toEqual(["M:begin", "M:del 0-10000 ram@0", "M:commit"]);
  });

  it("an address space created mid-transaction reuses the cached pre-transaction view of its root (address_space_init)", () => {
    const { sys, system, memory } = machine();
    // two children, so that the view root stays `system` (one child at 0 would become the root, `memory_region_get_flatview_root`)
    system.addSubregion(0x100000n, new MemoryRegion(sys, { kind: "ram", name: "a", size: 0x1000n }));
    const before = memory.currentMap;
    sys.begin();
    system.addSubregion(0x200000n, new MemoryRegion(sys, { kind: "ram", name: "b", size: 0x1000n }));
    const cpu = sys.createAddressSpace("cpu-memory-0", system);
    expect(cpu.currentMap).toBe(before);
    expect(cpu.currentMap.ranges.length).toBe(2);
    sys.commit();
    expect(cpu.currentMap).toBe(memory.currentMap);
    expect(cpu.currentMap.ranges.length).toBe(3);
  });

  it("an address space created mid-transaction on a root with no cached view renders the pending state (address_space_init)", () => {
    const { sys } = machine();
    const root = new MemoryRegion(sys, { kind: "container", name: "fresh", size: 0x10000n });
    sys.begin();
    root.addSubregion(0n, new MemoryRegion(sys, { kind: "io", name: "p", size: 0x10n }));
    root.addSubregion(0x100n, new MemoryRegion(sys, { kind: "io", name: "q", size: 0x10n }));
    const as = sys.createAddressSpace(null, root);
    expect(as.name).toBe("anonymous");
    expect(as.currentMap.ranges.map((r) => r.mr.name)).toEqual(["p", "q"]);
    sys.commit();
  });

  it("spaces on the permanent empty view get no callbacks; resolving from null to a region adds every range (address_space_set_flatview)", () => {
    const sys = new MemorySystem();
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0n, new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x1000n }));
    const bmc = new MemoryRegion(sys, { kind: "container", name: "bus master container", size: SIZE_2_64 });
    const bm = new MemoryRegion(sys, {
      kind: "alias",
      name: "bus master",
      size: SIZE_2_64,
      target: system,
      offset: 0n,
    });
    bm.setEnabled(false);
    bmc.addSubregion(0n, bm);
    const dev = sys.createAddressSpace("dev", bmc);
    const empty = dev.currentMap;
    expect(empty.root).toBeNull();
    const log: string[] = [];
    sys.registerListener(recorder(log, "D"), dev);
    expect(log).toEqual(["D:begin", "D:commit"]);
    log.length = 0;
    system.addSubregion(0x5000n, new MemoryRegion(sys, { kind: "ram", name: "more", size: 0x1000n }));
    expect(dev.currentMap).toBe(empty);
    expect(log).toEqual(["D:begin", "D:commit"]);
    log.length = 0;
    bm.setEnabled(true);
    expect(log).toEqual(["D:begin", "D:add 0-1000 ram@0", "D:add 5000-6000 more@0", "D:commit"]);
    expect(dev.currentMap.root).toBe(system);
  });

  it("a non-null root that renders nothing gets a fresh empty view each commit, and no range events (address_space_set_flatview)", () => {
    const sys = new MemorySystem();
    const c = new MemoryRegion(sys, { kind: "container", name: "c", size: 0x1000n });
    c.addSubregion(0n, new MemoryRegion(sys, { kind: "io", name: "zero", size: 0n }));
    const as = sys.createAddressSpace("z", c);
    const v = as.currentMap;
    const log: string[] = [];
    sys.registerListener(recorder(log, "Z"), as);
    log.length = 0;
    c.addSubregion(0x10n, new MemoryRegion(sys, { kind: "io", name: "zero2", size: 0n }));
    expect(as.currentMap).not.toBe(v);
    expect(as.currentMap.ranges).toEqual([]);
    expect(log).toEqual(["Z:begin", "Z:commit"]);
  });

  it("shared views, separate callbacks: each listener hears only its own space (address_space_update_topology_pass)", () => {
    const { sys, system, memory, log } = machine();
    const cpu = sys.createAddressSpace("cpu-memory-0", system);
    expect(cpu.currentMap).toBe(memory.currentMap);
    sys.registerListener(recorder(log, "C"), cpu);
    log.length = 0;
    system.addSubregion(0x100000n, new MemoryRegion(sys, { kind: "ram", name: "a", size: 0x1000n }));
    expect(cpu.currentMap).toBe(memory.currentMap);
    expect(log).toEqual([
      "L:begin",
      "C:begin",
      "L:nop 0-10000 ram@0",
      "L:add 100000-101000 a@0",
      "C:nop 0-10000 ram@0",
      "C:add 100000-101000 a@0",
      "L:commit",
      "C:commit",
    ]);
  });

  it("set_address on a region with no container updates nothing until the next unrelated topology commit (memory_region_set_address)", () => {
    const sys = new MemorySystem();
    const root = new MemoryRegion(sys, { kind: "io", name: "root", size: 0x100n });
    const as = sys.createAddressSpace("r", root);
    const log: string[] = [];
    sys.registerListener(recorder(log, "R"), as);
    log.length = 0;
    root.setAddress(0x1000n);
    expect(log).toEqual([]);
    expect(as.currentMap.ranges[0]!.start).toBe(0n);
    const elsewhere = new MemoryRegion(sys, { kind: "container", name: "elsewhere", size: 0x100n });
    elsewhere.setEnabled(false);
    expect(log).toEqual(["R:begin", "R:del 0-100 root@0", "R:add 1000-1100 root@0", "R:commit"]);
  });

  it("an ioeventfd-only commit runs the ioeventfd diff for every space, with no begin/commit", () => {
    const { sys, ram, memory, log } = machine();
    const dev = new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x100n });
    memory.root!.addSubregion(0x20000n, dev);
    log.length = 0;
    const e = notifier();
    dev.addEventfd(0x10n, 4, true, 7n, e);
    expect(log).toEqual([`L:eventfd_add 20010/4=7 e${e.id}`]);
    expect(memory.ioeventfds.map((r) => r.start)).toEqual([0x20010n]);
    expect(ram.ioeventfds).toEqual([]);
  });

  it("a topology commit runs each space's ioeventfd diff right after its topology diff (address_space_add_del_ioeventfds: a BAR move)", () => {
    const { sys, memory, log } = machine();
    const dev = new MemoryRegion(sys, { kind: "io", name: "bar", size: 0x40n });
    const e = notifier();
    dev.addEventfd(0x10n, 2, true, 0n, e);
    memory.root!.addSubregion(0xc000000n, dev);
    log.length = 0;
    dev.setAddress(0xd000000n);
    expect(log).toEqual([
      "L:begin",
      "L:del c000000-c000040 bar@0",
      "L:nop 0-10000 ram@0",
      "L:add d000000-d000040 bar@0",
      `L:eventfd_del c000010/2=0 e${e.id}`,
      `L:eventfd_add d000010/2=0 e${e.id}`,
      "L:commit",
    ]);
  });

  it("eventfds of a disabled region do not schedule an update; they appear when the region becomes visible (address_space_update_ioeventfds)", () => {
    const { sys, memory, log } = machine();
    const dev = new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x100n });
    dev.setEnabled(false);
    memory.root!.addSubregion(0x20000n, dev);
    log.length = 0;
    dev.addEventfd(0n, 0, false, 0n, notifier());
    expect(log).toEqual([]);
    expect(sys.ioeventfdPending).toBe(false);
    dev.setEnabled(true);
    expect(log.some((l) => l.startsWith("L:eventfd_add 20000/0"))).toBe(true);
  });
});

describe("address spaces", () => {
  it("destroying a space: listeners must be gone first; then it leaves the creation order", () => {
    const { sys, memory } = machine();
    const extra = sys.createAddressSpace("extra", memory.root!);
    expect(sys.addressSpaces.map((a) => a.name)).toEqual(["memory", "extra"]);
    expect(() => sys.destroyAddressSpace(memory)).toThrow(
      expect.objectContaining({ code: "E_ADDRESS_SPACE_HAS_LISTENERS" }),
    );
    expect(sys.addressSpaces.length).toBe(2);
    sys.destroyAddressSpace(extra);
    expect(sys.addressSpaces.map((a) => a.name)).toEqual(["memory"]);
    expect(extra.destroyed).toBe(true);
    expect(() => extra.read(0n, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: "E_ADDRESS_SPACE_DESTROYED" }),
    );
    expect(() => sys.registerListener({}, extra)).toThrow(expect.objectContaining({ code: "E_UNKNOWN_ADDRESS_SPACE" }));
  });

  it("destroying a space does not itself schedule a topology commit (address_space_destroy)", () => {
    const { sys, memory, log } = machine();
    const extra = sys.createAddressSpace("extra", memory.root!);
    sys.destroyAddressSpace(extra);
    expect(log).toEqual([]);
  });

  it("regions and spaces of another system are refused", () => {
    const a = new MemorySystem();
    const b = new MemorySystem();
    const r = new MemoryRegion(a, { kind: "container", name: "r", size: 0x10n });
    expect(() => b.createAddressSpace("x", r)).toThrow(expect.objectContaining({ code: "E_FOREIGN_REGION" }));
    const as = a.createAddressSpace("x", r);
    expect(() => b.registerListener({}, as)).toThrow(expect.objectContaining({ code: "E_UNKNOWN_ADDRESS_SPACE" }));
    expect(() => new MemorySystem({ accel: "xen" as never })).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
  });
});
