import { describe, expect, it } from "vitest";
import { DimmSlots, VirtioMem } from "../src/index.js";
import { runWorkload } from "../src/workload/index.js";
import { HOTPLUG_BASE, HOTPLUG_SIZE, mockHotplugMachine } from "./hotplug-machine.js";

/** The guest's own checksum, computed by the host over the regions plugged in the area, in address order. */
function sumOf(...blocks: Uint8Array[]): number {
  let sum = 0;
  for (const b of blocks) {
    const words = new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
    for (let i = 0; i < words.length; i++) sum = (sum + words[i]!) >>> 0;
  }
  return sum;
}

const slotsOf = (kvm: ReturnType<typeof mockHotplugMachine>["kvm"]) =>
  kvm.memslots().map((s) => [s.guestPhysAddr, s.memorySize]);

describe("DIMM hotplug (pc-dimm in a device-memory container): memslots follow, host memory returns", () => {
  it("plugged DIMMs get memslots, the guest writes and reads them; an unplugged one's slot goes and its memory is released", () => {
    const m = mockHotplugMachine();
    const dimms = new DimmSlots(m.system, m.area, { align: 0x1_0000n });
    m.kvm.clearCalls();
    const d0 = dimms.plug("dimm0", 0x3_0000n);
    const d1 = dimms.plug("dimm1", 0x4_0000n);
    expect([d0.addr, d1.addr]).toEqual([0n, 0x3_0000n]); // first fit
    expect(m.kvm.calls.map((c) => [c.method, (c.args[0] as { guestPhysAddr: bigint }).guestPhysAddr])).toEqual([
      ["setUserMemoryRegion", HOTPLUG_BASE],
      ["setUserMemoryRegion", HOTPLUG_BASE + 0x3_0000n],
    ]);
    expect(slotsOf(m.kvm)).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
      [HOTPLUG_BASE + 0x3_0000n, 0x4_0000n],
    ]);

    // The guest writes one dword into every page of the area, then sums the area itself.
    const run = runWorkload(m.vcpu, { passes: 5 });
    expect(run.stop).toBe("checksum");
    expect(run.checksum).toBe(sumOf(d0.ramBlock!.bytes(), d1.ramBlock!.bytes()));
    expect(run.checksum).not.toBe(0);

    dimms.unplug(d1);
    expect(m.kvm.discardedRamBytes).toBe(0x4_0000n); // discarded whole before its release
    expect(slotsOf(m.kvm)).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
    ]);
    expect(m.kvm.calls.at(-1)).toMatchObject({ method: "setUserMemoryRegion", args: [{ memorySize: 0n }] });
    expect(() => d1.ramBlock!.bytes()).toThrowError(expect.objectContaining({ code: "E_RAM_RELEASED" }));
    expect(m.kvm.guestWrite(HOTPLUG_BASE + 0x3_0000n, 1, 4).kind).not.toBe("ram");

    const d2 = dimms.plug("dimm2", 0x1_0000n);
    expect(d2.addr).toBe(0x3_0000n);
    expect(m.kvm.guestRead(HOTPLUG_BASE + 0x3_0000n, 4)).toEqual(new Uint8Array(4)); // fresh memory reads zero
  });

  it("refuses what does not fit, overlaps, is misaligned, or was never plugged, changing nothing", () => {
    const m = mockHotplugMachine();
    const dimms = new DimmSlots(m.system, m.area, { align: 0x1_0000n });
    dimms.plug("dimm0", 0x6_0000n);
    const before = slotsOf(m.kvm);
    expect(() => dimms.plug("big", 0x2_0000n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_RANGE" }));
    expect(() => dimms.plug("over", 0x1_0000n, 0x5_0000n)).toThrowError(
      expect.objectContaining({ code: "E_HOTPLUG_RANGE" }),
    );
    expect(() => dimms.plug("odd", 0x1_0000n, 0x6_8000n)).toThrowError(
      expect.objectContaining({ code: "E_HOTPLUG_RANGE" }),
    );
    expect(() => dimms.plug("ragged", 0x1234n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_RANGE" }));
    expect(() => dimms.unplug(m.low)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_UNKNOWN" }));
    expect(slotsOf(m.kvm)).toEqual(before);
  });
});

describe("virtio-mem-like blocks: plugged blocks are mapped (adjacent ones one memslot), unplugged ones not", () => {
  it("plug, the guest uses the blocks, unplug the middle one (the slot splits), re-plug reads zero", () => {
    const m = mockHotplugMachine();
    const mem = new VirtioMem(m.system, { name: "virtio-mem0", size: HOTPLUG_SIZE, blockSize: 0x1_0000n });
    m.area.addSubregion(0n, mem.region);
    expect(slotsOf(m.kvm)).toEqual([[0n, 0x1_0000n]]);
    mem.plug(0n, HOTPLUG_SIZE);
    expect(slotsOf(m.kvm)).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, HOTPLUG_SIZE],
    ]);
    const run = runWorkload(m.vcpu, { passes: 5 });
    expect(run.checksum).toBe(sumOf(mem.memory.ramBlock!.bytes()));

    // virtio_mem_unplug_sb discards the block's memory (ram_block_discard_range): it reads as zeros.
    expect(mem.memory.ramBlock!.bytesAt(0x3_0000n, 0x1_0000)).not.toEqual(new Uint8Array(0x1_0000));
    mem.unplug(0x3_0000n, 0x1_0000n);
    expect(m.kvm.discardedRamBytes).toBe(0x1_0000n);
    expect(mem.memory.ramBlock!.bytesAt(0x3_0000n, 0x1_0000)).toEqual(new Uint8Array(0x1_0000));
    expect(slotsOf(m.kvm)).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, 0x3_0000n],
      [HOTPLUG_BASE + 0x4_0000n, 0x3_0000n],
    ]);
    expect(m.kvm.guestWrite(HOTPLUG_BASE + 0x3_0000n, 1, 4).kind).not.toBe("ram");
    expect(mem.plugged).toEqual([true, true, true, false, true, true, true]);
    mem.plug(0x3_0000n, 0x1_0000n);
    expect(slotsOf(m.kvm)).toEqual([
      [0n, 0x1_0000n],
      [HOTPLUG_BASE, HOTPLUG_SIZE],
    ]);
    expect(m.kvm.guestRead(HOTPLUG_BASE + 0x3_0000n, 0x1_0000)).toEqual(new Uint8Array(0x1_0000));
    expect(m.kvm.guestRead(HOTPLUG_BASE + 0x2_0000n, 0x1_0000)).not.toEqual(new Uint8Array(0x1_0000));
  });

  it("refuses partial blocks and double plugs or unplugs, changing nothing", () => {
    const m = mockHotplugMachine();
    const mem = new VirtioMem(m.system, { name: "virtio-mem0", size: HOTPLUG_SIZE, blockSize: 0x1_0000n });
    m.area.addSubregion(0n, mem.region);
    mem.plug(0n, 0x2_0000n);
    const before = slotsOf(m.kvm);
    expect(() => mem.plug(0x1_0000n, 0x2_0000n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_BLOCK" }));
    expect(() => mem.unplug(0x2_0000n, 0x1_0000n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_BLOCK" }));
    expect(() => mem.plug(0x8000n, 0x1_0000n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_BLOCK" }));
    expect(() => mem.plug(0x6_0000n, 0x2_0000n)).toThrowError(expect.objectContaining({ code: "E_HOTPLUG_BLOCK" }));
    expect(slotsOf(m.kvm)).toEqual(before);
    expect(mem.plugged).toEqual([true, true, false, false, false, false, false]);
  });
});
