import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import { DIRTY_LOG_MIGRATION, DIRTY_LOG_VGA, MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { dirtyPageOffsets, MemorySystem } from "../../src/index.js";

// The per-RAM-block dirty memory (QEMU's ram_list.dirty_memory, by block and page of the block)
// and memory_region_clear_dirty_bitmap.

function machine() {
  const sys = new MemorySystem({ accel: "kvm" });
  const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x100000n });
  // Two windows on one block, the second showing its upper half at 4 GiB (as PC RAM above 4G).
  root.addSubregion(
    0n,
    new MemoryRegion(sys, { kind: "alias", name: "below", size: 0x80000n, target: ram, offset: 0n }),
  );
  root.addSubregion(
    0x100000000n,
    new MemoryRegion(sys, { kind: "alias", name: "above", size: 0x80000n, target: ram, offset: 0x80000n }),
  );
  const memory = sys.createAddressSpace("memory", root);
  return { sys, ram, memory };
}

describe("dirty memory per RAM block", () => {
  it("invalidate_and_set_dirty: a write through the address space dirties the block's page for the region's clients", () => {
    const { sys, ram, memory } = machine();
    memory.write(0x100000010n, Uint8Array.of(1, 2));
    expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram)), "no client while tracking is off").toEqual([]);
    sys.startDirtyLog();
    memory.write(0x100000ffen, Uint8Array.of(1, 2, 3, 4)); // straddles two pages of the upper half
    memory.write(0x3000n, Uint8Array.of(9));
    expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram))).toEqual([0x3000n, 0x80000n, 0x81000n]);
    expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram)), "taken means clean").toEqual([]);
    expect(sys.getDirty(ram, 0n, 0x100000n, DIRTY_LOG_VGA), "the region does not log for VGA").toBe(false);
    sys.stopDirtyLog();
  });

  it("setDirtyLebitmap: VGA always, MIGRATION only while global tracking is on; offsets are the block's", () => {
    const { sys, ram } = machine();
    sys.setDirtyLebitmap(ram, 0x80000n, Uint8Array.of(0b101, 0, 0, 0, 0, 0, 0, 0), 64, 4096);
    expect(sys.getDirty(ram, 0x80000n, 0x1000n, DIRTY_LOG_VGA)).toBe(true);
    expect(sys.getDirty(ram, 0x81000n, 0x1000n, DIRTY_LOG_VGA)).toBe(false);
    expect(sys.getDirty(ram, 0x80000n, 0x1000n, DIRTY_LOG_MIGRATION)).toBe(false);
    sys.startDirtyLog();
    sys.setDirtyLebitmap(ram, 0x80000n, Uint8Array.of(0b101, 0, 0, 0, 0, 0, 0, 0), 64, 4096);
    expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram))).toEqual([0x80000n, 0x82000n]);
    expect(dirtyPageOffsets(sys.takeDirtyBitmap(ram, DIRTY_LOG_VGA))).toEqual([0x80000n, 0x82000n]);
  });

  it("memory_region_clear_dirty_bitmap: logClear gets, per range showing the region, the part showing the cleared span", () => {
    const { sys, ram, memory } = machine();
    const seen: string[] = [];
    const listener: MemoryListener = {
      logClear: (s: MemoryRegionSection) =>
        seen.push(
          `${s.offsetWithinAddressSpace.toString(16)}+${s.size.toString(16)} @${s.offsetWithinRegion.toString(16)}`,
        ),
    };
    sys.registerListener(listener, memory);
    sys.clearDirtyLog(ram, 0x7f000n, 0x3000n);
    expect(seen).toEqual(["7f000+1000 @7f000", "100000000+2000 @80000"]);
  });

  it("logClear walks the listeners Forward; logSyncGlobal gets lastStage; a sync of one address space asks only its listeners", () => {
    const { sys, ram, memory } = machine();
    const io = sys.createAddressSpace("I/O", new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n }));
    const seen: string[] = [];
    const named = (name: string, priority: number): MemoryListener => ({
      name,
      priority,
      logClear: () => seen.push(`${name}:clear`),
      logSyncGlobal: (lastStage: boolean) => seen.push(`${name}:sync-global ${lastStage}`),
    });
    sys.registerListener(named("B", 10), memory);
    sys.registerListener(named("A", 0), memory);
    sys.registerListener(named("C", 5), io);
    sys.clearDirtyLog(ram, 0n, 0x1000n);
    expect(seen).toEqual(["A:clear", "B:clear"]);
    seen.length = 0;
    sys.syncDirtyLog(undefined, true);
    expect(seen).toEqual(["A:sync-global true", "C:sync-global true", "B:sync-global true"]);
    seen.length = 0;
    sys.syncDirtyLog(io);
    expect(seen).toEqual(["C:sync-global false"]);
  });

  it("misuse is a typed error and changes nothing", () => {
    const { sys, ram } = machine();
    const io = new MemoryRegion(sys, { kind: "io", name: "dev", size: 0x1000n, ops: {} });
    const other = new MemoryRegion(new MemorySystem(), { kind: "ram", name: "x", size: 0x1000n });
    expect(() => sys.takeDirtyBitmap(io)).toThrow(expect.objectContaining({ code: "E_NOT_RAM" }));
    expect(() => sys.takeDirtyBitmap(other)).toThrow(expect.objectContaining({ code: "E_FOREIGN_REGION" }));
    expect(() => sys.takeDirtyBitmap(ram, 3 as never)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(() => sys.takeDirtyBitmap(ram, DIRTY_LOG_MIGRATION, 4096n)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => sys.setDirty(ram, 0xff000n, 0x2000n)).toThrow(expect.objectContaining({ code: "E_RAM_RANGE" }));
    expect(() => sys.clearDirtyLog(ram, -1n, 1n)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
    expect(() => sys.setDirtyLebitmap(ram, 0n, new Uint8Array(1), 9, 4096)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => sys.setDirtyLebitmap(ram, 0n, new Uint8Array(8), 1, 1000)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(() => sys.syncDirtyLog(undefined, "yes" as never)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
    expect(sys.getDirty(ram, 0n, 0x100000n, DIRTY_LOG_VGA)).toBe(false);
  });
});
