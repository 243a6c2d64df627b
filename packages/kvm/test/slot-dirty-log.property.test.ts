import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KvmBackend } from "../src/backend.js";
import { type LoggedSlot, SlotDirtyLog } from "../src/slot-dirty-log.js";

// kvm_log_clear_one_slot: a clear re-protects exactly the pages of the range that the last
// fetch reported, in one KVM_CLEAR_DIRTY_LOG whose first_page is a multiple of 64 and whose
// num_pages is too unless the window runs to the slot's end (the kernel's EINVAL rules).

describe("SlotDirtyLog.clear", () => {
  it("clears exactly the held pages of the range, in a window the kernel accepts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        fc.nat(),
        fc.nat(),
        (slotPages, dirty, a, b) => {
          const calls: { first: bigint; num: number; bits: Uint8Array }[] = [];
          const backend = {
            name: "fake",
            hostPageSize: 4096,
            dirtyLogManualProtect: 1,
            clearDirtyLog(_slot: number, first: bigint, num: number, bits: Uint8Array) {
              calls.push({ first, num, bits: bits.slice() });
            },
          } as unknown as KvmBackend;
          const log = new SlotDirtyLog(backend, { setDirtyLebitmap() {} });
          const held = new Uint8Array(Math.ceil(slotPages / 64) * 8);
          const set = new Set(dirty.map((d) => d % slotPages));
          for (const p of set) held[p >>> 3]! |= 1 << (p & 7);
          const mr = new MemoryRegion(new StandaloneHost(), {
            kind: "ram",
            name: "r",
            size: BigInt(slotPages) * 4096n,
          });
          const slot: LoggedSlot = {
            kernelId: 1,
            size: BigInt(slotPages) * 4096n,
            mr,
            offsetInRegion: 0n,
            dirtyBmap: held,
          };
          const lo = Math.min(a % (slotPages + 1), b % (slotPages + 1));
          const hi = Math.max(a % (slotPages + 1), b % (slotPages + 1));
          log.clear(slot, BigInt(lo) * 4096n, BigInt(hi - lo) * 4096n, []);
          const expected = [...set].filter((p) => p >= lo && p < hi).sort((x, y) => x - y);
          if (expected.length === 0) {
            expect(calls).toEqual([]);
          } else {
            expect(calls).toHaveLength(1);
            const { first, num, bits } = calls[0]!;
            expect(first % 64n).toBe(0n);
            expect(num % 64 === 0 || Number(first) + num === slotPages).toBe(true);
            expect(Number(first) + num).toBeLessThanOrEqual(slotPages);
            const cleared: number[] = [];
            for (let q = 0; q < bits.length * 8; q++)
              if ((bits[q >>> 3]! & (1 << (q & 7))) !== 0) cleared.push(Number(first) + q);
            expect(cleared).toEqual(expected);
          }
          const left = [...set].filter((p) => p < lo || p >= hi).sort((x, y) => x - y);
          const still: number[] = [];
          for (let p = 0; p < slotPages; p++) if ((held[p >>> 3]! & (1 << (p & 7))) !== 0) still.push(p);
          expect(still).toEqual(left);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
