import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding } from "../src/binding.js";
import { nativeRamAllocator } from "../src/index.js";

// Release() gives the mapping and the memfd back at once, in the same
// synchronous turn, not when the garbage collector finalizes the block's views.
const loaded = loadBinding();

const MiB = 1n << 20n;

function openFds(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

/** Mappings of memfds with this label that are still in the address space. */
function mappedMemfds(label: string): number {
  return fs
    .readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((line) => line.includes(`/memfd:${label} `)).length;
}

describe.skipIf(!isBinding(loaded))("release() frees guest RAM synchronously", () => {
  it("10 000 allocate/touch/release cycles of 1 MiB in one loop keep fds, mappings and RSS flat", () => {
    const allocator = nativeRamAllocator();
    const fdsBefore = openFds();
    const rssBefore = process.memoryUsage().rss;
    let fdsPeak = fdsBefore;
    let mappingsPeak = 0;
    for (let i = 0; i < 10_000; i++) {
      const ram = allocator.allocate("cycle", MiB);
      const bytes = ram.bytes();
      // One page in 16 (a page fault costs ~30 us here): 640 MiB of RSS over the loop if leaked.
      for (let page = 0; page < bytes.length; page += 0x10000) bytes[page] = 1;
      ram.release();
      if (i % 500 === 499) {
        fdsPeak = Math.max(fdsPeak, openFds());
        mappingsPeak = Math.max(mappingsPeak, mappedMemfds("cycle"));
      }
    }
    const fdsAfter = openFds();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.log(
      `[ram-release] fds ${fdsBefore} -> ${fdsAfter} (peak ${fdsPeak}); memfd mappings peak ${mappingsPeak}; ` +
        `RSS growth ${(rssGrowth / 2 ** 20).toFixed(1)} MiB after 10 000 x 1 MiB`,
    );
    expect(fdsPeak - fdsBefore).toBeLessThanOrEqual(2);
    expect(fdsAfter - fdsBefore).toBeLessThanOrEqual(2);
    expect(mappingsPeak).toBe(0);
    expect(mappedMemfds("cycle")).toBe(0);
    // Flat means a few MiB of JS heap noise.
    expect(rssGrowth).toBeLessThan(64 * 2 ** 20);
    expect(allocator.size).toBe(0);
  }, 120_000);

  it("release() unmaps at once even while chunk views of the block are still reachable (they are detached)", () => {
    const ram = nativeRamAllocator().allocate("viewed", 2n * MiB);
    const whole = ram.bytes();
    const part = ram.bytesAt(MiB, 16);
    part[0] = 1;
    expect(mappedMemfds("viewed")).toBe(1);
    ram.release();
    expect(mappedMemfds("viewed")).toBe(0);
    expect(whole.length).toBe(0);
    expect(part.length).toBe(0);
    expect(() => ram.bytesAt(0n, 1)).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
  });
});
