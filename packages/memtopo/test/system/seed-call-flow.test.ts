import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { recorder } from "./recorder.js";

/**
 * The call flow of one transaction (`memory_region_transaction_begin`/`_commit`): one add_subregion of a new RAM region under `system`,
 * nothing else open, with `memory` and `cpu-memory-0` sharing one view, `I/O` on its own,
 * and listeners of different priorities (`memory_listener_register`).
 */
function seedMachine() {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: 1n << 64n });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x8000000n });
  const below = new MemoryRegion(sys, {
    kind: "alias",
    name: "ram-below-4g",
    size: 0x8000000n,
    target: ram,
    offset: 0n,
  });
  const vga = new MemoryRegion(sys, { kind: "io", name: "vga-lowmem", size: 0x20000n });
  system.addSubregion(0n, below);
  system.addSubregionOverlap(0xa0000n, vga, 1);
  const io = new MemoryRegion(sys, { kind: "io", name: "io", size: 0x10000n });
  const memory = sys.createAddressSpace("memory", system);
  const ioAs = sys.createAddressSpace("I/O", io);
  const cpu = sys.createAddressSpace("cpu-memory-0", system);
  return { sys, system, memory, ioAs, cpu };
}

describe("seed call flow (memory_region_transaction_begin/_commit)", () => {
  it("one RAM region added under system: begin to all, per space del/nop/add in address order, commit to all", () => {
    const { sys, system, memory, ioAs, cpu } = seedMachine();
    expect(memory.currentMap).toBe(cpu.currentMap);
    const log: string[] = [];
    sys.registerListener(recorder(log, "kvm", 10), memory);
    sys.registerListener(recorder(log, "dev", 0), memory);
    sys.registerListener(recorder(log, "cpu0", 0), cpu);
    sys.registerListener(recorder(log, "pio", 10), ioAs);
    log.length = 0;

    const newram = new MemoryRegion(sys, { kind: "ram", name: "newram", size: 0x1000000n });
    system.addSubregion(0x10000000n, newram);

    expect(memory.currentMap).toBe(cpu.currentMap);
    expect(log).toEqual([
      // begin: the global list, Forward (ascending priority, ties in registration order)
      "dev:begin",
      "cpu0:begin",
      "kvm:begin",
      "pio:begin",
      // memory: nothing changed below 0x10000000 (region_nop, Forward), newram added at its place
      "dev:nop 0-a0000 pc.ram@0",
      "kvm:nop 0-a0000 pc.ram@0",
      "dev:nop a0000-c0000 vga-lowmem@0",
      "kvm:nop a0000-c0000 vga-lowmem@0",
      "dev:nop c0000-8000000 pc.ram@c0000",
      "kvm:nop c0000-8000000 pc.ram@c0000",
      "dev:add 10000000-11000000 newram@0",
      "kvm:add 10000000-11000000 newram@0",
      // I/O (created second): a new view object with the same single range
      "pio:nop 0-10000 io@0",
      // cpu-memory-0 (created third) shares the view object but has its own listener list
      "cpu0:nop 0-a0000 pc.ram@0",
      "cpu0:nop a0000-c0000 vga-lowmem@0",
      "cpu0:nop c0000-8000000 pc.ram@c0000",
      "cpu0:add 10000000-11000000 newram@0",
      // commit: the global list, Forward
      "dev:commit",
      "cpu0:commit",
      "kvm:commit",
      "pio:commit",
    ]);
  });

  it("adding RAM that splits an existing range: region_del of the old range before any add/nop (Reverse per range)", () => {
    const { sys, system, memory } = seedMachine();
    const log: string[] = [];
    sys.registerListener(recorder(log, "kvm", 10), memory);
    sys.registerListener(recorder(log, "dev", 0), memory);
    log.length = 0;
    const hole = new MemoryRegion(sys, { kind: "ram", name: "hole", size: 0x1000n });
    system.addSubregionOverlap(0x1000000n, hole, 2);
    expect(log.filter((l) => !l.includes("cpu0") && !l.includes("pio"))).toEqual([
      "dev:begin",
      "kvm:begin",
      "kvm:del c0000-8000000 pc.ram@c0000",
      "dev:del c0000-8000000 pc.ram@c0000",
      "dev:nop 0-a0000 pc.ram@0",
      "kvm:nop 0-a0000 pc.ram@0",
      "dev:nop a0000-c0000 vga-lowmem@0",
      "kvm:nop a0000-c0000 vga-lowmem@0",
      "dev:add c0000-1000000 pc.ram@c0000",
      "kvm:add c0000-1000000 pc.ram@c0000",
      "dev:add 1000000-1001000 hole@0",
      "kvm:add 1000000-1001000 hole@0",
      "dev:add 1001000-8000000 pc.ram@1001000",
      "kvm:add 1001000-8000000 pc.ram@1001000",
      "dev:commit",
      "kvm:commit",
    ]);
  });

  it("sections of a commit carry the view before the commit (address_space_update_topology_pass)", () => {
    const { sys, system, memory } = seedMachine();
    const seen: unknown[] = [];
    sys.registerListener({ regionAdd: (s) => seen.push(s.fv), regionNop: (s) => seen.push(s.fv) }, memory);
    const before = memory.currentMap;
    seen.length = 0;
    system.addSubregion(0x10000000n, new MemoryRegion(sys, { kind: "ram", name: "n", size: 0x1000n }));
    expect(seen.length).toBe(4);
    for (const fv of seen) expect(fv).toBe(before);
    expect(memory.currentMap).not.toBe(before);
  });
});
