import { describe, expect, it } from "vitest";
import { MemoryRegion, SIZE_2_64, StandaloneHost, UINT64_MAX } from "../src/index.js";

// A region's size is Int128 in [0, 2^64] (UINT64_MAX meaning 2^64), but a RAM-backed region also has a
// RAM block whose length is a 64-bit number (QEMU's ram_addr_t): 2^64 bytes of RAM cannot exist.

const ops = { read: () => 0n, write: () => {} };

describe("RAM-backed regions stop short of 2^64 bytes (a RAM block's length is 64-bit)", () => {
  it("RAM, ROM, RAM device and ROM device of 2^64 (or UINT64_MAX) are refused with E_INVALID_SIZE", () => {
    const host = new StandaloneHost();
    for (const size of [SIZE_2_64, UINT64_MAX]) {
      for (const init of [
        { kind: "ram", name: "ram", size },
        { kind: "rom", name: "rom", size },
        { kind: "ram-device", name: "dev", size },
        { kind: "rom-device", name: "flash", size, ops },
      ] as const) {
        expect(() => new MemoryRegion(host, init)).toThrow(expect.objectContaining({ code: "E_INVALID_SIZE" }));
      }
    }
    expect(new MemoryRegion(host, { kind: "ram", name: "ram", size: SIZE_2_64 - 0x1000n }).size).toBe(
      SIZE_2_64 - 0x1000n,
    );
  });

  it("containers, I/O and aliases may be 2^64 bytes", () => {
    const host = new StandaloneHost();
    const system = new MemoryRegion(host, { kind: "container", name: "system", size: SIZE_2_64 });
    expect(new MemoryRegion(host, { kind: "io", name: "io", size: UINT64_MAX }).size).toBe(SIZE_2_64);
    const alias = new MemoryRegion(host, { kind: "alias", name: "bm", size: SIZE_2_64, target: system, offset: 0n });
    expect(alias.size).toBe(SIZE_2_64);
  });

  it("setSize to 2^64 on a RAM region is refused and changes nothing", () => {
    const host = new StandaloneHost();
    const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x1000n });
    expect(() => ram.setSize(UINT64_MAX)).toThrow(expect.objectContaining({ code: "E_INVALID_SIZE" }));
    expect(ram.size).toBe(0x1000n);
    const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x1000n });
    io.setSize(UINT64_MAX);
    expect(io.size).toBe(SIZE_2_64);
  });
});
