import { MemoryRegion, type MemoryRegionInit, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { printMtree } from "../../src/index.js";

/** Any constructor argument, with `name` defaulting to null (unnamed). */
type Init = { kind: MemoryRegionInit["kind"]; size: bigint; name?: string | null } & Record<string, unknown>;

function setup() {
  const sys = new MemorySystem();
  const mr = (init: Init): MemoryRegion => new MemoryRegion(sys, { name: null, ...init } as MemoryRegionInit);
  return { sys, mr };
}

describe("info mtree tree view (mtree_print_mr)", () => {
  it("without -D a disabled region's own line is dropped but its enabled children print at their own depth", () => {
    const { sys, mr } = setup();
    const io = mr({ kind: "container", name: "io", size: 0x10000n });
    const pm = mr({ kind: "container", name: "piix4-pm", size: 0x40n });
    pm.addSubregion(0n, mr({ kind: "io", name: "acpi-evt", size: 4n }));
    io.addSubregion(0n, pm);
    pm.setEnabled(false);
    sys.createAddressSpace("I/O", io);
    expect(printMtree(sys.addressSpaces)).toBe(
      [
        "address-space: I/O",
        "  0000000000000000-000000000000ffff (prio 0, i/o): io",
        "      0000000000000000-0000000000000003 (prio 0, i/o): acpi-evt",
        "",
        "",
      ].join("\n"),
    );
    expect(printMtree(sys.addressSpaces, { disabled: true })).toBe(
      [
        "address-space: I/O",
        "  0000000000000000-000000000000ffff (prio 0, i/o): io",
        "    0000000000000000-000000000000003f (prio 0, i/o): piix4-pm [disabled]",
        "      0000000000000000-0000000000000003 (prio 0, i/o): acpi-evt",
        "",
        "",
      ].join("\n"),
    );
  });

  it("[DETECTED OVERFLOW!] comes before the indentation when the printed end wraps past 2^64", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const top = mr({ kind: "container", name: "top", size: 0x1000n });
    top.addSubregion(0x800n, mr({ kind: "ram", name: "big", size: 0x1000n }));
    system.addSubregion(0xfffffffffffff000n, top);
    sys.createAddressSpace("memory", system);
    expect(printMtree(sys.addressSpaces).split("\n")).toContain(
      "[DETECTED OVERFLOW!]       fffffffffffff800-00000000000007ff (prio 0, ram): big",
    );
  });

  it("the overflow mark of a suppressed disabled line prefixes the next printed line", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const top = mr({ kind: "container", name: "top", size: 0x1000n });
    const hidden = mr({ kind: "ram", name: "hidden", size: 0x1000n });
    top.addSubregion(0x800n, hidden);
    hidden.setEnabled(false);
    system.addSubregion(0xfffffffffffff000n, top);
    system.addSubregion(0n, mr({ kind: "ram", name: "low", size: 0x1000n }));
    sys.createAddressSpace("memory", system);
    const lines = printMtree(sys.addressSpaces).split("\n");
    expect(lines).not.toContain(expect.stringContaining("hidden"));
    expect(lines).toContain("address-space: memory");
    // Printing order: low (addr 0), then top and its hidden child; the mark has nothing after it in the block
    // but the block's closing empty line.
    expect(lines.join("\n")).toContain("(prio 0, i/o): top\n[DETECTED OVERFLOW!] \n");
  });

  it("children print by address, then higher priority first, then list order (newest first)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: 0x10000n });
    system.addSubregion(0x2000n, mr({ kind: "io", name: "high-addr", size: 0x10n }));
    system.addSubregionOverlap(0x1000n, mr({ kind: "io", name: "low-prio", size: 0x10n }), -1);
    system.addSubregion(0x1000n, mr({ kind: "io", name: "older", size: 0x10n }));
    system.addSubregion(0x1000n, mr({ kind: "io", name: "newer", size: 0x10n }));
    system.addSubregionOverlap(0x1000n, mr({ kind: "io", name: "high-prio", size: 0x10n }), 2);
    sys.createAddressSpace("memory", system);
    const names = printMtree(sys.addressSpaces)
      .split("\n")
      .slice(2)
      .filter((l) => l !== "")
      .map((l) => l.slice(l.lastIndexOf(" ") + 1));
    expect(names).toEqual(["high-prio", "newer", "older", "low-prio", "high-addr"]);
  });

  it("one block per root region, its spaces sorted by strcmp; among equal names the later-created first", () => {
    const { sys, mr } = setup();
    const root = mr({ kind: "ram", name: "r", size: 0x1000n });
    const other = mr({ kind: "ram", name: "other", size: 0x1000n });
    const first = sys.createAddressSpace("dup", root);
    sys.createAddressSpace("Zeta", root);
    sys.createAddressSpace("alpha", root);
    const second = sys.createAddressSpace("dup", root);
    sys.createAddressSpace("solo", other);
    const text = printMtree(sys.addressSpaces);
    expect(text).toBe(
      [
        "address-space: Zeta",
        "address-space: alpha",
        "address-space: dup",
        "address-space: dup",
        "  0000000000000000-0000000000000fff (prio 0, ram): r",
        "",
        "address-space: solo",
        "  0000000000000000-0000000000000fff (prio 0, ram): other",
        "",
        "",
      ].join("\n"),
    );
    // The later-created "dup" is listed first: the order in which the printer met them, reversed.
    expect(sys.addressSpaces.indexOf(second)).toBeGreaterThan(sys.addressSpaces.indexOf(first));
  });

  it("end = start for a size-0 region", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const blackhole = mr({ kind: "io", name: "tseg-blackhole", size: 0n });
    system.addSubregionOverlap(0x8000000n, blackhole, 1);
    sys.createAddressSpace("memory", system);
    expect(printMtree(sys.addressSpaces)).toContain(
      "    0000000008000000-0000000008000000 (prio 1, i/o): tseg-blackhole\n",
    );
  });

  it("a 2^64 region at 0 prints 0000000000000000-ffffffffffffffff, and UINT64_MAX is taken as 2^64", () => {
    const { sys, mr } = setup();
    sys.createAddressSpace("memory", mr({ kind: "container", name: "system", size: 0xffffffffffffffffn }));
    expect(printMtree(sys.addressSpaces)).toContain("  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n");
  });

  it("alias lines print the window offset..offset+size-1 and the final target's type (a read-only alias of RAM prints ram)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const ram = mr({ kind: "ram", name: "pc.ram", size: 0x100000n });
    const window = mr({ kind: "alias", name: "pam-rom", size: 0x4000n, target: ram, offset: 0xc0000n });
    const chain = mr({ kind: "alias", name: "chain", size: 0x1000n, target: window, offset: 0x1000n });
    window.setReadonly(true);
    system.addSubregionOverlap(0xc0000n, window, 1);
    system.addSubregion(0x200000n, chain);
    sys.createAddressSpace("memory", system);
    const text = printMtree(sys.addressSpaces);
    expect(text).toContain(
      "    00000000000c0000-00000000000c3fff (prio 1, ram): alias pam-rom @pc.ram 00000000000c0000-00000000000c3fff\n",
    );
    expect(text).toContain(
      "    0000000000200000-0000000000200fff (prio 0, ram): alias chain @pam-rom 0000000000001000-0000000000001fff\n",
    );
  });

  it("memory-region: sections follow in the order targets were first met, deduplicated by identity (mtree_info)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const a = mr({ kind: "ram", name: "same", size: 0x1000n, addr: 0x5000n });
    const b = mr({ kind: "rom", name: "same", size: 0x2000n });
    const holder = mr({ kind: "container", name: "holder", size: 0x10000n });
    const inner = mr({ kind: "ram", name: "inner", size: 0x1000n });
    holder.addSubregion(0n, mr({ kind: "alias", name: "to-inner", size: 0x1000n, target: inner, offset: 0n }));
    system.addSubregion(0x1000n, mr({ kind: "alias", name: "x1", size: 0x1000n, target: a, offset: 0n }));
    system.addSubregion(0x2000n, mr({ kind: "alias", name: "x2", size: 0x1000n, target: b, offset: 0n }));
    system.addSubregion(0x3000n, mr({ kind: "alias", name: "x3", size: 0x1000n, target: a, offset: 0n }));
    system.addSubregion(0x4000n, mr({ kind: "alias", name: "x4", size: 0x1000n, target: holder, offset: 0n }));
    sys.createAddressSpace("memory", system);
    const sections = printMtree(sys.addressSpaces).split("\n\n").slice(1, -1);
    expect(sections).toEqual([
      "memory-region: same\n  0000000000005000-0000000000005fff (prio 0, ram): same",
      "memory-region: same\n  0000000000000000-0000000000001fff (prio 0, rom): same",
      "memory-region: holder\n  0000000000000000-000000000000ffff (prio 0, i/o): holder\n" +
        "    0000000000000000-0000000000000fff (prio 0, ram): alias to-inner @inner 0000000000000000-0000000000000fff",
      "memory-region: inner\n  0000000000000000-0000000000000fff (prio 0, ram): inner",
    ]);
  });

  it("a disabled alias, unprinted without -D, still queues its target's section (mtree_info)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const ram = mr({ kind: "ram", name: "pc.ram", size: 0x1000n });
    const alias = mr({ kind: "alias", name: "pam-ram", size: 0x1000n, target: ram, offset: 0n });
    system.addSubregion(0n, alias);
    alias.setEnabled(false);
    sys.createAddressSpace("memory", system);
    expect(printMtree(sys.addressSpaces)).toBe(
      [
        "address-space: memory",
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
        "",
        "memory-region: pc.ram",
        "  0000000000000000-0000000000000fff (prio 0, ram): pc.ram",
        "",
        "",
      ].join("\n"),
    );
  });

  it("nv- is the region's own flag, not inherited", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const nv = mr({ kind: "container", name: "nvdimm", size: 0x2000n });
    nv.addSubregion(0n, mr({ kind: "ram", name: "cells", size: 0x1000n }));
    nv.setNonvolatile(true);
    system.addSubregion(0n, nv);
    sys.createAddressSpace("memory", system);
    const text = printMtree(sys.addressSpaces);
    expect(text).toContain("(prio 0, nv-i/o): nvdimm\n");
    expect(text).toContain("(prio 0, ram): cells\n");
  });

  it("type words (memory_region_type): ROM device romd on/off, RAM device, container; unnamed regions print (null)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const flash = mr({ kind: "rom-device", name: "flash", size: 0x1000n, ops: {} });
    const off = mr({ kind: "rom-device", name: "flash-off", size: 0x1000n, ops: {} });
    off.setRomdMode(false);
    system.addSubregion(0n, flash);
    system.addSubregion(0x1000n, off);
    system.addSubregion(0x2000n, mr({ kind: "ram-device", name: "bar", size: 0x1000n }));
    system.addSubregion(0x3000n, mr({ kind: "io", size: 0x1000n }));
    sys.createAddressSpace("memory", system);
    const text = printMtree(sys.addressSpaces);
    expect(text).toContain("(prio 0, romd): flash\n");
    expect(text).toContain("(prio 0, i/o): flash-off\n");
    expect(text).toContain("(prio 0, ramd): bar\n");
    expect(text).toContain("0000000000003000-0000000000003fff (prio 0, i/o): (null)\n");
  });

  it("-o appends the owner after [disabled]; a named region without owner has /machine/unattached as parent (mtree_print_mr_owner)", () => {
    const { sys, mr } = setup();
    const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
    const nic = mr({ kind: "io", name: "e1000-mmio", size: 0x20000n, owner: "nic0" });
    system.addSubregion(0n, nic);
    system.addSubregion(0x100000n, mr({ kind: "io", size: 0x10n }));
    nic.setEnabled(false);
    sys.createAddressSpace("memory", system);
    const text = printMtree(sys.addressSpaces, { disabled: true, owner: true });
    expect(text).toContain("): system parent:{obj path=/machine/unattached}\n");
    expect(text).toContain("): e1000-mmio [disabled] owner:{dev id=nic0}\n");
    expect(text).toContain("): (null) orphan\n");
  });
});
