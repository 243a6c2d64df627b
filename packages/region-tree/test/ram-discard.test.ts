import { describe, expect, it } from "vitest";
import { lazyRamAllocator } from "../src/index.js";

describe("RamBacking.discard on JS-heap RAM (ram_block_discard_range's contract: the range reads as zeros)", () => {
  it("zeroes exactly the range, may end at an odd block end, and leaves a block never touched unallocated", () => {
    const ram = lazyRamAllocator().allocate("a", 0x3001n);
    ram.bytes().fill(0xa5);
    ram.discard!(0x1000n, 0x1000n);
    const b = ram.bytes();
    expect([b[0xfff], b[0x1000], b[0x1fff], b[0x2000]]).toEqual([0xa5, 0, 0, 0xa5]);
    ram.discard!(0x3000n, 1n);
    expect(b[0x3000]).toBe(0);
    const fresh = lazyRamAllocator().allocate("b", 1n << 40n);
    fresh.discard!(0n, 1n << 40n); // a terabyte never touched: nothing to allocate or zero
  });

  it("refuses ranges that are not whole pages inside the block (E_RAM_RANGE) and released blocks, changing nothing", () => {
    const ram = lazyRamAllocator().allocate("a", 0x2000n);
    ram.bytes().fill(1);
    const bad: [unknown, unknown][] = [
      [0x800n, 0x1000n],
      [0n, 0x800n],
      [0n, 0n],
      [-0x1000n, 0x1000n],
      [0x1000n, 0x2000n],
      [0, 0x1000n],
      [0n, 0x1000],
    ];
    for (const [offset, length] of bad) {
      expect(() => ram.discard!(offset as bigint, length as bigint)).toThrowError(
        expect.objectContaining({ code: "E_RAM_RANGE" }),
      );
    }
    expect(ram.bytes().every((x) => x === 1)).toBe(true);
    ram.release();
    expect(() => ram.discard!(0n, 0x1000n)).toThrowError(expect.objectContaining({ code: "E_RAM_RELEASED" }));
  });
});
