import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { getFlatViewRoot, renderFlatView } from "../src/index.js";

function summary(root: MemoryRegion) {
  return renderFlatView(root).ranges.map((r) => ({
    name: r.mr.name,
    start: r.start,
    size: r.size,
    offset: r.offsetInRegion,
    readonly: r.readonly,
  }));
}

describe("priorities and holes (render_memory_region)", () => {
  function build(bTerminates: boolean) {
    const host = new StandaloneHost();
    const a = new MemoryRegion(host, { kind: "container", name: "A", size: 0x8000n });
    const b = new MemoryRegion(host, { kind: bTerminates ? "io" : "container", name: "B", size: 0x4000n });
    const d = new MemoryRegion(host, { kind: "io", name: "D", size: 0x1000n });
    const e = new MemoryRegion(host, { kind: "io", name: "E", size: 0x1000n });
    const c = new MemoryRegion(host, { kind: "io", name: "C", size: 0x6000n });
    b.addSubregion(0n, d);
    b.addSubregion(0x2000n, e);
    a.addSubregionOverlap(0x2000n, b, 2);
    a.addSubregionOverlap(0n, c, 1);
    return a;
  }

  it("a container's holes show lower siblings; hidden bytes still advance offset_in_region", () => {
    expect(summary(build(false))).toEqual([
      { name: "C", start: 0n, size: 0x2000n, offset: 0n, readonly: false },
      { name: "D", start: 0x2000n, size: 0x1000n, offset: 0n, readonly: false },
      { name: "C", start: 0x3000n, size: 0x1000n, offset: 0x3000n, readonly: false },
      { name: "E", start: 0x4000n, size: 0x1000n, offset: 0n, readonly: false },
      { name: "C", start: 0x5000n, size: 0x1000n, offset: 0x5000n, readonly: false },
    ]);
  });

  it("a terminating region fills its own gaps, so lower siblings show only outside it", () => {
    expect(summary(build(true))).toEqual([
      { name: "C", start: 0n, size: 0x2000n, offset: 0n, readonly: false },
      { name: "D", start: 0x2000n, size: 0x1000n, offset: 0n, readonly: false },
      { name: "B", start: 0x3000n, size: 0x1000n, offset: 0x1000n, readonly: false },
      { name: "E", start: 0x4000n, size: 0x1000n, offset: 0n, readonly: false },
      { name: "B", start: 0x5000n, size: 0x1000n, offset: 0x3000n, readonly: false },
    ]);
  });
});

describe("alias translation (render_memory_region)", () => {
  it("isa-bios reaches pc.bios at offset 0x20000, read-only, whatever the target's own addr", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    const bios = new MemoryRegion(host, { kind: "rom", name: "pc.bios", size: 0x40000n });
    const isaBios = new MemoryRegion(host, {
      kind: "alias",
      name: "isa-bios",
      size: 0x20000n,
      target: bios,
      offset: 0x20000n,
    });
    system.addSubregion(0xfffc0000n, bios);
    system.addSubregionOverlap(0xe0000n, isaBios, 1);
    expect(summary(system)).toEqual([
      { name: "pc.bios", start: 0xe0000n, size: 0x20000n, offset: 0x20000n, readonly: true },
      { name: "pc.bios", start: 0xfffc0000n, size: 0x40000n, offset: 0n, readonly: true },
    ]);
  });
});

describe("full small example (generate_memory_topology)", () => {
  it("a read-only alias splits pc.ram and nothing merges across it", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "pc.ram", size: 0x8000000n });
    const below = new MemoryRegion(host, {
      kind: "alias",
      name: "ram-below-4g",
      size: 0x8000000n,
      target: ram,
      offset: 0n,
    });
    const vga = new MemoryRegion(host, { kind: "io", name: "vga-lowmem", size: 0x20000n });
    const pamRom = new MemoryRegion(host, {
      kind: "alias",
      name: "pam-rom",
      size: 0x4000n,
      target: ram,
      offset: 0xc0000n,
    });
    pamRom.setReadonly(true);
    system.addSubregion(0n, below);
    system.addSubregionOverlap(0xa0000n, vga, 1);
    system.addSubregionOverlap(0xc0000n, pamRom, 1);
    expect(summary(system)).toEqual([
      { name: "pc.ram", start: 0n, size: 0xa0000n, offset: 0n, readonly: false },
      { name: "vga-lowmem", start: 0xa0000n, size: 0x20000n, offset: 0n, readonly: false },
      { name: "pc.ram", start: 0xc0000n, size: 0x4000n, offset: 0xc0000n, readonly: true },
      { name: "pc.ram", start: 0xc4000n, size: 0x8000000n - 0xc4000n, offset: 0xc4000n, readonly: false },
    ]);
  });
});

describe("merging (flatview_simplify)", () => {
  it("pieces of one region reached through different aliases merge", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 0x200000n });
    const bios = new MemoryRegion(host, { kind: "rom", name: "pc.bios", size: 0x20000n });
    for (let i = 0n; i < 8n; i++) {
      const a = new MemoryRegion(host, {
        kind: "alias",
        name: "pam",
        size: 0x4000n,
        target: bios,
        offset: i * 0x4000n,
      });
      system.addSubregion(0xe0000n + i * 0x4000n, a);
    }
    expect(summary(system)).toEqual([{ name: "pc.bios", start: 0xe0000n, size: 0x20000n, offset: 0n, readonly: true }]);
  });
});

describe("past 2^64 (render_memory_region)", () => {
  it("rendering clips at 2^64", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    const big = new MemoryRegion(host, { kind: "ram", name: "big", size: 0x2000n });
    const inner = new MemoryRegion(host, { kind: "container", name: "hi", size: 0x2000n, addr: 0n });
    inner.addSubregion(0n, big);
    const window = new MemoryRegion(host, { kind: "container", name: "w", size: 0x1000n });
    window.addSubregion(0n, inner);
    system.addSubregion(0xfffffffffffff000n, window);
    expect(summary(system)).toEqual([
      { name: "big", start: 0xfffffffffffff000n, size: 0x1000n, offset: 0n, readonly: false },
    ]);
  });
});

describe("view roots (memory_region_get_flatview_root)", () => {
  it("a bus-master container with one full-size alias of system resolves to system", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    system.addSubregion(0x1000n, new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n }));
    const bmc = new MemoryRegion(host, { kind: "container", name: "bus master container", size: 1n << 64n });
    const bm = new MemoryRegion(host, {
      kind: "alias",
      name: "bus master",
      size: 1n << 64n,
      target: system,
      offset: 0n,
    });
    bmc.addSubregion(0n, bm);
    expect(getFlatViewRoot(bmc)).toBe(system);
    bm.setEnabled(false);
    expect(getFlatViewRoot(bmc)).toBeNull();
    expect(renderFlatView(bmc).ranges).toEqual([]);
  });

  it("the resolved root's own addr shifts the whole view", () => {
    const host = new StandaloneHost();
    const t = new MemoryRegion(host, { kind: "ram", name: "t", size: 0x1000n, addr: 0x1000n });
    const alias = new MemoryRegion(host, { kind: "alias", name: "a", size: 0x1000n, target: t, offset: 0n });
    expect(renderFlatView(alias).ranges.map((r) => r.start)).toEqual([0x1000n]);
  });

  it("a read-only full-size alias used as a root yields a writable view", () => {
    const host = new StandaloneHost();
    const t = new MemoryRegion(host, { kind: "ram", name: "t", size: 0x1000n });
    const alias = new MemoryRegion(host, { kind: "alias", name: "a", size: 0x1000n, target: t, offset: 0n });
    alias.setReadonly(true);
    expect(renderFlatView(alias).ranges[0]?.readonly).toBe(false);
  });
});

describe("view roots: a container with one enabled child at 0 is skipped (memory_region_get_flatview_root)", () => {
  it("resolves to the child and loses the container", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
    system.addSubregion(0n, ram);
    expect(getFlatViewRoot(system)).toBe(ram);
  });
});
