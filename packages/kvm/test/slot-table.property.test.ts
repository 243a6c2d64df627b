import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlotTable } from "../src/slot-table.js";

interface Slot {
  id: number;
  start: bigint;
  size: bigint;
}

// The oracle is QEMU's way: one array of nr_slots entries, scanned from id 0 for a free
// id and for the live slot that matches (kvm_get_free_slot, kvm_lookup_matching_slot).
class ScanOracle {
  readonly byId: (Slot | null)[];
  readonly stale = new Set<Slot>();
  constructor(capacity: number) {
    this.byId = new Array<Slot | null>(capacity).fill(null);
  }
  freeId(): number {
    return this.byId.indexOf(null);
  }
  find(start: bigint, size: bigint): Slot | null {
    return this.byId.find((s) => s !== null && !this.stale.has(s) && s.start === start && s.size === size) ?? null;
  }
  all(): Slot[] {
    return this.byId.filter((s): s is Slot => s !== null);
  }
  staleSlots(): Slot[] {
    return this.all().filter((s) => this.stale.has(s));
  }
}

const op = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    start: fc.integer({ min: 0, max: 15 }),
    size: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("stale" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("removeStale" as const), pick: fc.nat() }),
);

describe("SlotTable against a scan of every id (kvm_get_free_slot, kvm_lookup_matching_slot)", () => {
  it("gives the same free id, matching slot, slot list and stale list after any sequence", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 80 }), (capacity, ops) => {
        const table = new SlotTable<Slot>(capacity);
        const oracle = new ScanOracle(capacity);
        for (const o of ops) {
          const live = oracle.all().filter((s) => !oracle.stale.has(s));
          const stale = oracle.staleSlots();
          if (o.kind === "add") {
            // As the listener: a live slot mirrors the view, so one start has one live slot.
            const start = BigInt(o.start);
            if (live.some((s) => s.start === start)) continue;
            const id = oracle.freeId();
            expect(table.freeId()).toBe(id);
            if (id < 0) continue;
            const slot = { id, start, size: BigInt(o.size) };
            table.put(slot);
            oracle.byId[id] = slot;
          } else if (o.kind === "remove" || o.kind === "stale") {
            if (live.length === 0) continue;
            const slot = live[o.pick % live.length]!;
            if (o.kind === "remove") {
              table.remove(slot);
              oracle.byId[slot.id] = null;
            } else {
              table.markStale(slot);
              oracle.stale.add(slot);
            }
          } else {
            if (stale.length === 0) continue;
            const slot = stale[o.pick % stale.length]!;
            table.remove(slot);
            oracle.byId[slot.id] = null;
            oracle.stale.delete(slot);
          }
          expect(table.freeId()).toBe(oracle.freeId());
          expect(table.all()).toEqual(oracle.all());
          expect(table.staleSlots()).toEqual(oracle.staleSlots());
          for (let start = 0n; start < 16n; start++) {
            for (let size = 1n; size <= 3n; size++) expect(table.find(start, size)).toBe(oracle.find(start, size));
          }
          for (const slot of oracle.all()) expect(table.holds(slot)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
