import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding } from "../src/binding.js";
import { nativeRamAllocator } from "../src/index.js";

// QEMU's ram_block_discard_range on the addon's memfd RAM: a punched hole plus MADV_DONTNEED.
// Needs the addon, not /dev/kvm.
const binding = loadBinding();

function rssKiB(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))![1]);
}

describe.skipIf(!isBinding(binding))("RamBacking.discard on native RAM", () => {
  it("a discarded range reads as zeros and leaves the process's RSS; the rest of the block keeps its bytes", () => {
    const ram = nativeRamAllocator().allocate("discard", 64n << 20n);
    const bytes = ram.bytes();
    const before = rssKiB();
    bytes.fill(0x5a);
    const touched = rssKiB();
    expect(touched - before).toBeGreaterThan(60 * 1024);
    ram.discard!(0x1000n, (48n << 20n) - 0x1000n);
    expect(touched - rssKiB()).toBeGreaterThan(44 * 1024);
    expect(bytes[0xfff]).toBe(0x5a);
    expect(bytes.subarray(0x1000, 48 << 20).every((b) => b === 0)).toBe(true);
    expect(bytes[48 << 20]).toBe(0x5a);
    // The memory is still the block's: writing there maps fresh pages again.
    bytes[0x1000] = 7;
    expect(ram.bytesAt(0x1000n, 1)[0]).toBe(7);
    ram.release();
  });

  it("the memfd's pages go too: a hole is punched, so a second mapping of the block sees zeros", () => {
    const ram = nativeRamAllocator().allocate("discard-hole", 0x4000n);
    ram.bytes().fill(1);
    ram.discard!(0x1000n, 0x2000n);
    // /proc/self/mem reads through the page tables of this mapping; the fd's content is what a vCPU thread's
    // share of the block maps, and the view above is that same memfd mapping.
    const fd = fs.openSync("/proc/self/mem", "r");
    try {
      const out = Buffer.alloc(0x4000);
      fs.readSync(fd, out, 0, 0x4000, Number(ram.hostAddr));
      expect([out[0xfff], out[0x1000], out[0x2fff], out[0x3000]]).toEqual([1, 0, 0, 1]);
    } finally {
      fs.closeSync(fd);
    }
    ram.release();
  });

  it("a block of an odd size discards its last partial page whole; the range may end at the block's end", () => {
    const ram = nativeRamAllocator().allocate("odd", 0x2001n);
    ram.bytes().fill(3);
    ram.discard!(0x2000n, 1n);
    expect(ram.bytes()[0x2000]).toBe(0);
    expect(ram.bytes()[0x1fff]).toBe(3);
    ram.release();
  });

  it("refuses unaligned, empty, outside or non-bigint ranges (E_RAM_RANGE) and released blocks, changing nothing", () => {
    const ram = nativeRamAllocator().allocate("refuse", 0x4000n);
    ram.bytes().fill(9);
    for (const [offset, length] of [
      [0x800n, 0x1000n],
      [0n, 0x800n],
      [0n, 0n],
      [-0x1000n, 0x1000n],
      [0x3000n, 0x2000n],
      [0x5000n, 0x1000n],
      [0, 0x1000n],
      [0n, 4096],
    ] as [bigint, bigint][]) {
      expect(() => ram.discard!(offset, length)).toThrowError(expect.objectContaining({ code: "E_RAM_RANGE" }));
    }
    expect(ram.bytes().every((b) => b === 9)).toBe(true);
    ram.release();
    expect(() => ram.discard!(0n, 0x1000n)).toThrowError(expect.objectContaining({ code: "E_RAM_RELEASED" }));
  });

  it("the addon's entry checks its own arguments: alignment and bounds against the mapping (EINVAL)", () => {
    if (!isBinding(binding)) return;
    const block = new binding.RamBlock("entry", 0x3000n);
    for (const [offset, length] of [
      [0x10n, 0x1000n],
      [0n, 0x10n],
      [0n, 0n],
      [0x2000n, 0x2000n],
      [0x4000n, 0x1000n],
      [2n ** 63n, 0x1000n],
      [0x1000n, 2n ** 64n - 0x1000n],
    ] as [bigint, bigint][]) {
      expect(() => block.discard(offset, length)).toThrowError(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(() => (block.discard as (...a: unknown[]) => void)(0n)).toThrow();
    expect(() => (block.discard as (...a: unknown[]) => void)("0", 4096n)).toThrow();
    block.discard(0n, 0x3000n);
    block.release();
    expect(() => block.discard(0n, 0x1000n)).toThrowError(expect.objectContaining({ code: "EBADF" }));
  });
});
