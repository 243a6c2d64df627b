import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding } from "../src/binding.js";
import { nativeRamAllocator } from "../src/index.js";

// Guest RAM over 4 GiB. Node caps one ArrayBuffer at 2^32 bytes, so such a
// block is seen through views of parts (bytesAt); bytes() refuses with a typed error.
const loaded = loadBinding();
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const GiB = 1n << 30n;

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

describe.skipIf(!isBinding(loaded))("guest RAM blocks over 4 GiB", () => {
  it("the addon's whole-block view of an 8 GiB block throws a typed error and the process lives", () => {
    // In a child: before the fix this call aborted the whole process (an exception
    // thrown while V8's RangeError was pending).
    const script = `
      const binding = require("node-gyp-build")(${JSON.stringify(packageRoot)});
      const block = new binding.RamBlock("big", 8n << 30n);
      try { block.buffer(); console.log("no error"); } catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno })); }
      block.release();
      console.log("alive");`;
    const child = spawnSync(process.execPath, ["-e", script], { cwd: packageRoot, encoding: "utf8" });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    const [first, second] = child.stdout.trim().split("\n");
    expect(JSON.parse(first!)).toEqual({ code: "E_RAM_TOO_LARGE", errno: expect.any(Number) });
    expect(second).toBe("alive");
  });

  it("bytes() of an 8 GiB block is E_RAM_TOO_LARGE; bytesAt() views parts anywhere, zero-copy at hostAddr + offset", () => {
    const ram = nativeRamAllocator().allocate("pc.ram", 8n * GiB);
    expect(() => ram.bytes()).toThrow(expect.objectContaining({ name: "MemtopoError", code: "E_RAM_TOO_LARGE" }));
    const high = ram.bytesAt(5n * GiB + 0x123n, 4);
    high.set([0xde, 0xad, 0xbe, 0xef]);
    expect(readHost(ram.hostAddr + 5n * GiB + 0x123n, 4)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    // The last byte, and a range that crosses the 4 GiB line of the block in one view.
    const last = ram.bytesAt(8n * GiB - 1n, 100);
    expect(last.length).toBe(1);
    last[0] = 0x5a;
    expect(readHost(ram.hostAddr + 8n * GiB - 1n, 1)).toEqual([0x5a]);
    const across = ram.bytesAt(4n * GiB - 2n, 4);
    across.set([1, 2, 3, 4]);
    expect(readHost(ram.hostAddr + 4n * GiB - 2n, 4)).toEqual([1, 2, 3, 4]);
    // Any part up to 1 GiB comes whole, wherever it starts.
    expect(ram.bytesAt(3n * GiB + 7n, Number(GiB)).length).toBe(Number(GiB));
    expect(ram.bytesAt(7n * GiB - 1n, Number(GiB)).length).toBe(Number(GiB));
    ram.release();
  });

  it("a block of exactly 4 GiB still has its whole view, and bytesAt() is a part of it", () => {
    const ram = nativeRamAllocator().allocate("four", 4n * GiB);
    const whole = ram.bytes();
    expect(whole.length).toBe(2 ** 32);
    ram.bytesAt(4n * GiB - 1n, 1)[0] = 0x42;
    expect(whole[2 ** 32 - 1]).toBe(0x42);
    ram.release();
  });

  it("bytesAt() refuses offsets outside the block and bad lengths with typed errors", () => {
    const ram = nativeRamAllocator().allocate("small", 0x3000n);
    expect(ram.bytesAt(0x1000n, 0x10).length).toBe(0x10);
    expect(ram.bytesAt(0x2ff0n, 0x100).length).toBe(0x10);
    for (const [offset, length] of [
      [0x3000n, 1],
      [-1n, 1],
      [2n ** 64n, 1],
      [0n, -1],
      [0n, 1.5],
      [0n, Number.NaN],
      [0 as unknown as bigint, 1],
    ] as [bigint, number][]) {
      expect(() => ram.bytesAt(offset, length)).toThrow(expect.objectContaining({ name: "MemtopoError" }));
    }
    ram.release();
  });

  it("an 8 GiB PC memory map (3 GiB below 4 GiB, 5 GiB above) reads and writes through the AddressSpace", () => {
    const sys = new MemorySystem({ ramAllocator: nativeRamAllocator() });
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 8n * GiB });
    const below = new MemoryRegion(sys, {
      kind: "alias",
      name: "ram-below-4g",
      target: ram,
      offset: 0n,
      size: 3n * GiB,
    });
    const above = new MemoryRegion(sys, {
      kind: "alias",
      name: "ram-above-4g",
      target: ram,
      offset: 3n * GiB,
      size: 5n * GiB,
    });
    system.addSubregion(0n, below);
    system.addSubregion(4n * GiB, above);
    const memory = sys.createAddressSpace("memory", system);
    // GPA 9 GiB - 2 is block offset 8 GiB - 2: the block's last two bytes, then a gap.
    expect(memory.write(9n * GiB - 2n, Uint8Array.of(0x11, 0x22))).toBe(0);
    expect([...ram.ramBlock!.bytesAt(8n * GiB - 2n, 2)]).toEqual([0x11, 0x22]);
    // GPA 6 GiB is block offset 5 GiB.
    ram.ramBlock!.bytesAt(5n * GiB, 3).set([7, 8, 9]);
    const out = new Uint8Array(3);
    expect(memory.read(6n * GiB, out)).toBe(0);
    expect([...out]).toEqual([7, 8, 9]);
    // A write that straddles block offset 4 GiB (GPA 5 GiB) is one step of the loop or two: same bytes.
    expect(memory.write(5n * GiB - 1n, Uint8Array.of(0xa, 0xb))).toBe(0);
    expect(readHost(ram.ramBlock!.hostAddr + 4n * GiB - 1n, 2)).toEqual([0xa, 0xb]);
    ram.ramBlock!.release();
  });
});
