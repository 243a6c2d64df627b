import { MockKvm } from "@memtopo/kvm-mock";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { DEMO_DEV_ID_VALUE } from "../src/demo/devices.js";
import {
  ABOVE_4G_BASE,
  BIOS_BASE,
  BIOS_SIGNATURE,
  buildDemoMachine,
  DEMO_BAR,
  RAM_BELOW_4G,
  VRAM_BAR,
} from "../src/demo/machine.js";

function demo() {
  const system = new MemorySystem();
  return buildDemoMachine(system, new MockKvm().createEventNotifier());
}

function at(machine: ReturnType<typeof demo>, addr: bigint) {
  const r = machine.memory.currentMap.lookup(addr);
  return r === undefined
    ? undefined
    : { name: r.mr.name, offset: r.offsetInRegion + (addr - r.start), readonly: r.readonly };
}

describe("the demo machine (built with the public API)", () => {
  it("RAM is split: one pc.ram below 128 MiB and the rest above 4 GiB (two aliases)", () => {
    const m = demo();
    expect(at(m, 0x1000n)).toEqual({ name: "pc.ram", offset: 0x1000n, readonly: false });
    expect(at(m, RAM_BELOW_4G)).toBeUndefined(); // the PCI hole starts here: nothing mapped
    expect(at(m, ABOVE_4G_BASE)).toEqual({ name: "pc.ram", offset: RAM_BELOW_4G, readonly: false });
  });

  it("the PCI hole shows the PCI devices; the BIOS sits at the top of 4 GiB and, read-only, at 0xe0000", () => {
    const m = demo();
    expect(at(m, VRAM_BAR)?.name).toBe("vga.vram");
    expect(at(m, DEMO_BAR)?.name).toBe("demo-mmio");
    expect(at(m, BIOS_BASE)).toEqual({ name: "pc.bios", offset: 0n, readonly: true });
    expect(at(m, 0xe_0000n)).toEqual({ name: "pc.bios", offset: 0x2_0000n, readonly: true });
    const sig = new Uint8Array(BIOS_SIGNATURE.length);
    m.memory.read(0xe_0000n, sig);
    expect(new TextDecoder().decode(sig)).toBe(BIOS_SIGNATURE);
  });

  it("VGA: the chain-4 window shows VRAM at 0xa0000 over low RAM, and VRAM is dirty-logged", () => {
    const m = demo();
    expect(at(m, 0xa_0000n)?.name).toBe("vga.vram");
    expect(at(m, 0xb_0000n)?.name).toBe("vga-lowmem");
    expect(m.memory.currentMap.lookup(VRAM_BAR)!.dirtyLogMask).not.toBe(0);
  });

  it("PAM: each segment has one alias enabled; switching PAM0 to read-only RAM shadows the BIOS", () => {
    const m = demo();
    expect(m.pam).toHaveLength(13);
    for (const s of m.pam) expect(Object.values(s.aliases).filter((a) => a.enabled)).toHaveLength(1);
    const pam0 = m.pam.find((s) => s.start === 0xf_0000n)!;
    m.setPam(pam0, "rom");
    expect(at(m, 0xf_0000n)).toEqual({ name: "pc.ram", offset: 0xf_0000n, readonly: true });
    expect(at(m, 0xe_0000n)?.name).toBe("pc.bios");
    m.setPam(pam0, "ram");
    expect(at(m, 0xf_0000n)?.readonly).toBe(false);
  });

  it("the devices answer through the address spaces (MMIO ID, UART status, POST port)", () => {
    const m = demo();
    expect(m.memory.readValue(DEMO_BAR, 4).value).toBe(DEMO_DEV_ID_VALUE);
    expect(m.io.readValue(0x3fdn, 1).value & 0x20n).toBe(0x20n);
    m.io.writeValue(0x80n, 1, 0x42n);
    expect(m.post.codes).toEqual([0x42]);
  });

  it("the doorbell is an ioeventfd of the memory address space, and it moves with the BAR", () => {
    const m = demo();
    expect(m.memory.ioeventfds.map((e) => e.start)).toEqual([DEMO_BAR + 0x10n]);
    m.demoBar.setAddress(0xfe00_0000n);
    expect(m.memory.ioeventfds.map((e) => e.start)).toEqual([0xfe00_0010n]);
  });
});
