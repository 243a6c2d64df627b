import fs from "node:fs";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { nativeRamAllocator } from "../src/index.js";

// Guest RAM needs the addon but not /dev/kvm: memfd mappings, checked through
// /proc/self/mem to prove the ArrayBuffer is the mapping itself (zero copy).
function readHost(addr: bigint, length: number): number[] {
  const fd = fs.openSync("/proc/self/mem", "r");
  try {
    const out = Buffer.alloc(length);
    fs.readSync(fd, out, 0, length, Number(addr));
    return [...out];
  } finally {
    fs.closeSync(fd);
  }
}

function writeHost(addr: bigint, bytes: number[]): void {
  const fd = fs.openSync("/proc/self/mem", "r+");
  try {
    fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, Number(addr));
  } finally {
    fs.closeSync(fd);
  }
}

describe.skipIf(!isBinding(loadBinding()))("NativeRamAllocator", () => {
  it("bytes() is the mapping at hostAddr itself: writes either way are seen the other way", () => {
    const ram = nativeRamAllocator().allocate("test", 0x3000n);
    expect(ram.hostAddr % 4096n).toBe(0n);
    const bytes = ram.bytes();
    expect(bytes.length).toBe(0x3000);
    expect(ram.bytes()).toBe(bytes);
    bytes.set([1, 2, 3], 0x1ffe);
    expect(readHost(ram.hostAddr + 0x1ffen, 3)).toEqual([1, 2, 3]);
    writeHost(ram.hostAddr + 0x2fffn, [0x5a]);
    expect(bytes[0x2fff]).toBe(0x5a);
    ram.release();
  });

  it("starts zeroed, keeps an odd size as the view length, and gives distinct blocks distinct memory", () => {
    const allocator = nativeRamAllocator();
    const a = allocator.allocate("a", 0x1001n);
    const b = allocator.allocate("b", 0x1000n);
    expect(a.bytes().length).toBe(0x1001);
    expect(a.bytes().every((x) => x === 0)).toBe(true);
    expect(a.hostAddr).not.toBe(b.hostAddr);
    a.bytes()[0] = 7;
    expect(b.bytes()[0]).toBe(0);
    expect(allocator.size).toBe(2);
    allocator.releaseAll();
    expect(allocator.size).toBe(0);
  });

  it("release detaches the view at once, so no JS code can reach the memory afterwards", () => {
    const ram = nativeRamAllocator().allocate("gone", 0x1000n);
    const bytes = ram.bytes();
    bytes[0] = 1;
    ram.release();
    expect(bytes.length).toBe(0);
    expect(bytes.buffer.byteLength).toBe(0);
    expect(() => ram.bytes()).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
    ram.release();
  });

  it("any region name works: long, non-ASCII or with NUL (the memfd label is trimmed)", () => {
    const allocator = nativeRamAllocator();
    for (const name of ["", "é".repeat(300), "a\0b", "🙂".repeat(100)]) allocator.allocate(name, 0x1000n).release();
    expect(allocator.size).toBe(0);
  });

  it("the ArrayBuffer keeps the mapping alive after its block object is garbage-collected", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const binding = loadBinding() as NativeBinding;
    const views: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) {
      const bytes = new Uint8Array(new binding.RamBlock(`gc${i}`, 0x10000n).buffer());
      bytes.fill(i + 1);
      views.push(bytes);
    }
    for (let round = 0; round < 3; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Had the blocks' finalizers unmapped the memory, these reads would fault.
    views.forEach((bytes, i) => {
      expect(bytes[0]).toBe(i + 1);
      expect(bytes[0xffff]).toBe(i + 1);
    });
  });

  it("a large map costs nothing until touched (MAP_NORESERVE, memfd)", () => {
    const ram = nativeRamAllocator().allocate("big", 1n << 32n);
    expect(ram.size).toBe(1n << 32n);
    ram.release();
  });

  it("rejects bad sizes with a typed error and allocates nothing", () => {
    const allocator = nativeRamAllocator();
    for (const size of [0n, -1n, 1n << 64n, 1n << 47n, 5 as unknown as bigint]) {
      expect(() => allocator.allocate("bad", size)).toThrow(expect.objectContaining({ name: "MemtopoError" }));
    }
    expect(allocator.size).toBe(0);
  });

  it("backs region-tree RAM and ROM regions: a RamAllocator the memory map can use as is", () => {
    const host = new StandaloneHost({ ramAllocator: nativeRamAllocator() });
    const ram = new MemoryRegion(host, { kind: "ram", name: "pc.ram", size: 0x10000n });
    const rom = new MemoryRegion(host, { kind: "rom", name: "pc.bios", size: 0x1000n });
    ram.ramBlock!.bytes()[0x1234] = 0x99;
    expect(readHost(ram.ramBlock!.hostAddr + 0x1234n, 1)).toEqual([0x99]);
    expect(rom.ramBlock!.bytes().length).toBe(0x1000);
    ram.ramBlock!.release();
    rom.ramBlock!.release();
  });
});
