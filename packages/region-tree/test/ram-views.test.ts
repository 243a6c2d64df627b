import { describe, expect, it } from "vitest";
import { lazyRamAllocator, RAM_VIEW_WHOLE, ramViewLength } from "../src/index.js";

// RamBacking.bytesAt: views of parts of a block, which is how a block over
// 4 GiB (no single ArrayBuffer) is read and written.
describe("RamBacking.bytesAt on the lazy allocator", () => {
  it("is a zero-copy part of bytes(), cut at the block's end", () => {
    const ram = lazyRamAllocator().allocate("ram", 0x3000n);
    const part = ram.bytesAt(0x1ffen, 4);
    part.set([1, 2, 3, 4]);
    expect([...ram.bytes().subarray(0x1ffe, 0x2002)]).toEqual([1, 2, 3, 4]);
    expect(ram.bytesAt(0x2ff0n, 0x100).length).toBe(0x10);
    expect(ram.bytesAt(0n, 0).length).toBe(0);
  });

  it("refuses offsets outside the block, bad lengths and released blocks with typed errors", () => {
    const ram = lazyRamAllocator().allocate("ram", 0x1000n);
    for (const [offset, length] of [
      [0x1000n, 1],
      [-1n, 1],
      [0n, -1],
      [0n, 0.5],
      [0n, 2 ** 53],
      [1 as unknown as bigint, 1],
      [0n, 1n as unknown as number],
    ] as [bigint, number][]) {
      expect(() => ram.bytesAt(offset, length)).toThrow(expect.objectContaining({ code: "E_RAM_RANGE" }));
    }
    ram.release();
    expect(() => ram.bytesAt(0n, 1)).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
  });

  it("ramViewLength clamps to the block's end and never cuts what fits", () => {
    expect(ramViewLength(8n << 30n, 0n, RAM_VIEW_WHOLE)).toBe(RAM_VIEW_WHOLE);
    expect(ramViewLength(8n << 30n, (8n << 30n) - 3n, RAM_VIEW_WHOLE)).toBe(3);
  });
});
