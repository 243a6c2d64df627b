import {
  MEMTX_DECODE_ERROR,
  MEMTX_OK,
  MemoryRegion,
  type RamAllocator,
  type RamBacking,
  SIZE_2_64,
} from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";

// Reads and writes through an AddressSpace at and past every edge of RAM regions
// follow QEMU's rules (RAM accesses split at section ends; unassigned bytes read 0 with
// MEMTX_DECODE_ERROR, writes dropped) and never touch memory outside a RAM block: every
// block sits between canary bytes that must survive.

const CANARY = 64;

function canaryAllocator(blocks: { buffer: Uint8Array; size: number }[]): RamAllocator {
  let next = 0x7f0000000000n;
  return {
    allocate(_name: string, size: bigint): RamBacking {
      const n = Number(size);
      const buffer = new Uint8Array(n + 2 * CANARY).fill(0xa5);
      buffer.fill(0, CANARY, CANARY + n);
      blocks.push({ buffer, size: n });
      const hostAddr = next;
      next += 0x100000000n;
      return {
        hostAddr,
        size,
        bytes: () => buffer.subarray(CANARY, CANARY + n),
        // Unclamped on purpose: a caller asking past the block's end would reach a canary.
        bytesAt: (offset, length) => buffer.subarray(CANARY + Number(offset), CANARY + Number(offset) + length),
        release() {},
      };
    },
  };
}

describe("guest RAM bounds through the access path", () => {
  it("random accesses around every edge of RAM regions keep the canaries and match a byte model", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 0x40 }), pages: fc.integer({ min: 1, max: 3 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(
          fc.record({
            edge: fc.nat(),
            delta: fc.integer({ min: -9, max: 9 }),
            len: fc.oneof(fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 1, max: 64 })),
            write: fc.boolean(),
            seed: fc.integer({ min: 0, max: 255 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (layout, accesses) => {
          const blocks: { buffer: Uint8Array; size: number }[] = [];
          const sys = new MemorySystem({ ramAllocator: canaryAllocator(blocks) });
          const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
          const model = new Map<number, number>(); // address → byte, for RAM addresses only
          const edges: number[] = [];
          for (const [i, { at, pages }] of layout.entries()) {
            const start = at * 0x100;
            const size = pages * 0x80;
            const ram = new MemoryRegion(sys, { kind: "ram", name: `ram${i}`, size: BigInt(size) });
            system.addSubregionOverlap(BigInt(start), ram, i);
            edges.push(start, start + size);
          }
          const memory = sys.createAddressSpace("memory", system);
          for (const r of memory.currentMap.ranges) {
            for (let a = Number(r.start); a < Number(r.start + r.size); a++) model.set(a, 0);
          }
          for (const x of accesses) {
            const addr = Math.max(0, edges[x.edge % edges.length]! + x.delta);
            const data = Uint8Array.from({ length: x.len }, (_, k) => (x.seed + k * 37) & 0xff);
            let anyHole = false;
            for (let k = 0; k < x.len; k++) if (!model.has(addr + k)) anyHole = true;
            if (x.write) {
              const result = memory.write(BigInt(addr), data);
              for (let k = 0; k < x.len; k++) if (model.has(addr + k)) model.set(addr + k, data[k]!);
              expect(result).toBe(anyHole ? MEMTX_DECODE_ERROR : MEMTX_OK);
            } else {
              const out = new Uint8Array(x.len).fill(0xee);
              const result = memory.read(BigInt(addr), out);
              expect(result).toBe(anyHole ? MEMTX_DECODE_ERROR : MEMTX_OK);
              for (let k = 0; k < x.len; k++) expect(out[k]).toBe(model.get(addr + k) ?? 0);
            }
          }
          for (const { buffer, size } of blocks) {
            expect(buffer.subarray(0, CANARY).every((b) => b === 0xa5)).toBe(true);
            expect(buffer.subarray(CANARY + size).every((b) => b === 0xa5)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
