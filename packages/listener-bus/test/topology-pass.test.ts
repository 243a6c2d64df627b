import { renderFlatView } from "@memtopo/flatview";
import { MemoryRegion, SIZE_2_64, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { ListenerCalls, updateTopology } from "../src/index.js";
import { logListener } from "./log-listener.js";

/** A PC's view without PAM: pc.ram below 4G with vga-lowmem over it. */
function vgaMachine() {
  const host = new StandaloneHost();
  const system = new MemoryRegion(host, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(host, { kind: "ram", name: "pc.ram", size: 0x8000000n });
  const below = new MemoryRegion(host, {
    kind: "alias",
    name: "ram-below-4g",
    size: 0x8000000n,
    target: ram,
    offset: 0n,
  });
  const vga = new MemoryRegion(host, { kind: "io", name: "vga-lowmem", size: 0x20000n });
  system.addSubregion(0n, below);
  system.addSubregionOverlap(0xa0000n, vga, 1);
  return { host, system, ram, vga };
}

function diff(old: ReturnType<typeof renderFlatView> | null, next: ReturnType<typeof renderFlatView>) {
  const log: string[] = [];
  const calls = new ListenerCalls();
  updateTopology(calls, [logListener(log, "L0", 0), logListener(log, "L1", 1)], old, next);
  calls.throwIfFailed("test");
  return log;
}

describe("topology diff (address_space_update_topology_pass)", () => {
  it("worked example 1: disabling vga-lowmem deletes all three old ranges in pass 1, then adds one (Reverse del, Forward add)", () => {
    const m = vgaMachine();
    const old = renderFlatView(m.system);
    m.vga.setEnabled(false);
    expect(diff(old, renderFlatView(m.system))).toEqual([
      "L1:del 0+a0000 pc.ram@0",
      "L0:del 0+a0000 pc.ram@0",
      "L1:del a0000+20000 vga-lowmem@0",
      "L0:del a0000+20000 vga-lowmem@0",
      "L1:del c0000+7f40000 pc.ram@c0000",
      "L0:del c0000+7f40000 pc.ram@c0000",
      "L0:add 0+8000000 pc.ram@0",
      "L1:add 0+8000000 pc.ram@0",
    ]);
  });

  it("worked example 2: a new RAM region gives region_nop for every old range and one region_add in address order", () => {
    const m = vgaMachine();
    const old = renderFlatView(m.system);
    m.system.addSubregion(0x10000000n, new MemoryRegion(m.host, { kind: "ram", name: "hot", size: 0x1000000n }));
    m.system.addSubregion(0x20000000n, new MemoryRegion(m.host, { kind: "ram", name: "above", size: 0x1000n }));
    const mid = renderFlatView(m.system);
    m.system.addSubregion(0x18000000n, new MemoryRegion(m.host, { kind: "ram", name: "between", size: 0x1000n }));
    expect(diff(mid, renderFlatView(m.system)).filter((x) => x.startsWith("L0"))).toEqual([
      "L0:nop 0+a0000 pc.ram@0",
      "L0:nop a0000+20000 vga-lowmem@0",
      "L0:nop c0000+7f40000 pc.ram@c0000",
      "L0:nop 10000000+1000000 hot@0",
      "L0:add 18000000+1000 between@0",
      "L0:nop 20000000+1000 above@0",
    ]);
    expect(old.ranges.length).toBe(3);
  });

  it("worked example 3: VGA logging on vga.vram is region_nop then log_start(0 -> 1), not del/add", () => {
    const host = new StandaloneHost();
    const root = new MemoryRegion(host, { kind: "container", name: "system", size: SIZE_2_64 });
    const vram = new MemoryRegion(host, { kind: "ram", name: "vga.vram", size: 0x1000000n });
    root.addSubregion(0xfd000000n, vram);
    const old = renderFlatView(root);
    vram.setLog(true);
    const on = renderFlatView(root);
    expect(diff(old, on)).toEqual([
      "L0:nop fd000000+1000000 vga.vram@0",
      "L1:nop fd000000+1000000 vga.vram@0",
      "L0:log_start fd000000+1000000 vga.vram@0 0->1",
      "L1:log_start fd000000+1000000 vga.vram@0 0->1",
    ]);
    vram.setLog(false);
    expect(diff(on, renderFlatView(root))).toEqual([
      "L0:nop fd000000+1000000 vga.vram@0",
      "L1:nop fd000000+1000000 vga.vram@0",
      "L1:log_stop fd000000+1000000 vga.vram@0 1->0",
      "L0:log_stop fd000000+1000000 vga.vram@0 1->0",
    ]);
  });

  it("the same view object, or no listeners, emits nothing (the permanent empty view)", () => {
    const m = vgaMachine();
    const v = renderFlatView(m.system);
    expect(diff(v, v)).toEqual([]);
    const log: string[] = [];
    updateTopology(new ListenerCalls(), [], null, v);
    expect(log).toEqual([]);
  });

  it("a null old view adds every range", () => {
    const m = vgaMachine();
    expect(diff(null, renderFlatView(m.system)).filter((x) => x.startsWith("L0"))).toEqual([
      "L0:add 0+a0000 pc.ram@0",
      "L0:add a0000+20000 vga-lowmem@0",
      "L0:add c0000+7f40000 pc.ram@c0000",
    ]);
  });

  it("a readonly change breaks equality: del + add, never a modify", () => {
    const m = vgaMachine();
    const old = renderFlatView(m.system);
    m.vga.setReadonly(true);
    expect(diff(old, renderFlatView(m.system)).filter((x) => x.startsWith("L0"))).toEqual([
      "L0:del a0000+20000 vga-lowmem@0",
      "L0:nop 0+a0000 pc.ram@0",
      "L0:add a0000+20000 vga-lowmem@0",
      "L0:nop c0000+7f40000 pc.ram@c0000",
    ]);
  });
});
