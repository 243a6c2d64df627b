import { MemoryRegion, type MemoryRegionInit, SIZE_2_64 } from "@memtopo/region-tree";
import { type AddressSpaceShape, MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { printMtreeFlat } from "../../src/index.js";

function setup() {
  const sys = new MemorySystem();
  const mr = (init: { kind: MemoryRegionInit["kind"]; size: bigint; name?: string | null } & Record<string, unknown>) =>
    new MemoryRegion(sys, { name: null, ...init } as MemoryRegionInit);
  return { sys, mr };
}

describe("info mtree -f (mtree_print_flatview)", () => {
  it("views are grouped by view object, spaces listed in creation order; an empty view prints (none)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0n, mr({ kind: "ram", name: "ram", size: 0x1000n }));
    system.addSubregion(0x10000n, mr({ kind: "io", name: "uart", size: 0x8n }));
    const bm = mr({ kind: "container", name: "bus master container", size: SIZE_2_64 });
    const bmAlias = mr({ kind: "alias", name: "bus master", size: SIZE_2_64, target: system, offset: 0n });
    bm.addSubregion(0n, bmAlias);
    bmAlias.setEnabled(false);
    sys.createAddressSpace("memory", system);
    sys.createAddressSpace("dev", bm);
    sys.createAddressSpace("cpu-memory-0", system);
    expect(printMtreeFlat(sys.addressSpaces)).toBe(
      [
        "FlatView #0",
        ' AS "memory", root: system',
        ' AS "cpu-memory-0", root: system',
        " Root memory region: system",
        "  0000000000000000-0000000000000fff (prio 0, ram): ram",
        "  0000000000010000-0000000000010007 (prio 0, i/o): uart",
        "",
        "FlatView #1",
        ' AS "dev", root: bus master container',
        " Root memory region: (none)",
        "  No rendered FlatView",
        "",
        "",
      ].join("\n"),
    );
  });

  it("an address space rooted at an alias prints ', alias TARGET' and the resolved view root", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0n, mr({ kind: "ram", name: "ram", size: 0x1000n }));
    system.addSubregion(0x2000n, mr({ kind: "ram", name: "ram2", size: 0x1000n }));
    const dma = mr({ kind: "alias", name: "dma-window", size: SIZE_2_64, target: system, offset: 0n });
    sys.createAddressSpace("my-dma", dma);
    expect(printMtreeFlat(sys.addressSpaces)).toContain(
      ' AS "my-dma", root: dma-window, alias system\n Root memory region: system\n',
    );
  });

  it("a non-null root that renders nothing prints its name and No rendered FlatView", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0n, mr({ kind: "container", name: "empty-a", size: 0x1000n }));
    system.addSubregion(0x1000n, mr({ kind: "container", name: "empty-b", size: 0x1000n }));
    sys.createAddressSpace("memory", system);
    expect(printMtreeFlat(sys.addressSpaces)).toBe(
      'FlatView #0\n AS "memory", root: system\n Root memory region: system\n  No rendered FlatView\n\n',
    );
  });

  it("ranges print rom when read-only, nv- when nonvolatile, @offset when not 0, and the terminating region's own priority", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const ram = mr({ kind: "ram", name: "pc.ram", size: 0x100000n });
    const rom = mr({ kind: "alias", name: "pam-rom", size: 0x4000n, target: ram, offset: 0xc0000n });
    rom.setReadonly(true);
    const nv = mr({ kind: "container", name: "nv", size: 0x1000n });
    nv.setNonvolatile(true);
    nv.addSubregion(0n, mr({ kind: "ram", name: "cells", size: 0x1000n }));
    system.addSubregion(0n, mr({ kind: "alias", name: "below-4g", size: 0x100000n, target: ram, offset: 0n }));
    system.addSubregionOverlap(0xc0000n, rom, 1);
    system.addSubregion(0x200000n, nv);
    sys.createAddressSpace("memory", system);
    expect(printMtreeFlat(sys.addressSpaces).split("\n").slice(3, 8)).toEqual([
      "  0000000000000000-00000000000bffff (prio 0, ram): pc.ram",
      "  00000000000c0000-00000000000c3fff (prio 0, rom): pc.ram @00000000000c0000",
      "  00000000000c4000-00000000000fffff (prio 0, ram): pc.ram @00000000000c4000",
      "  0000000000200000-0000000000200fff (prio 0, nv-ram): cells",
      "",
    ]);
  });

  it("the accelerator word is printed once for each space of the view that has memory there", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0n, mr({ kind: "ram", name: "ram", size: 0x2000n }));
    system.addSubregion(0x3000n, mr({ kind: "io", name: "dev", size: 0x10n }));
    const memory = sys.createAddressSpace("memory", system);
    sys.createAddressSpace("cpu-memory-0", system);
    const asked: string[] = [];
    const accelHasMemory = (as: AddressSpaceShape, start: bigint, size: bigint): boolean => {
      asked.push(`${as.name} ${start.toString(16)}+${size.toString(16)}`);
      return as === memory && start === 0n && size === 0x2000n;
    };
    const text = printMtreeFlat(sys.addressSpaces, { accelHasMemory });
    expect(text).toContain("(prio 0, ram): ram KVM\n");
    expect(text).toContain("(prio 0, i/o): dev\n");
    expect(asked).toEqual(["memory 0+2000", "cpu-memory-0 0+2000", "memory 3000+10", "cpu-memory-0 3000+10"]);
  });

  it("a range reaching 2^64 prints ffffffffffffffff as its end", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    system.addSubregion(0xfffffffffffff000n, mr({ kind: "ram", name: "top", size: 0x1000n }));
    system.addSubregion(0n, mr({ kind: "ram", name: "low", size: 0x1000n }));
    sys.createAddressSpace("memory", system);
    expect(printMtreeFlat(sys.addressSpaces)).toContain("  fffffffffffff000-ffffffffffffffff (prio 0, ram): top\n");
  });

  it("-o appends owners after @offset (mtree_print_mr_owner)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const bios = mr({ kind: "rom", name: "pc.bios", size: 0x40000n, owner: "/machine/bios" });
    system.addSubregion(0n, mr({ kind: "alias", name: "isa-bios", size: 0x20000n, target: bios, offset: 0x20000n }));
    system.addSubregion(0x100000n, mr({ kind: "ram", name: "ram", size: 0x1000n }));
    sys.createAddressSpace("memory", system);
    expect(printMtreeFlat(sys.addressSpaces, { owner: true })).toContain(
      "(prio 0, rom): pc.bios @0000000000020000 owner:{dev path=/machine/bios}\n",
    );
  });
});
