import { fc, test } from "@fast-check/vitest";
import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { SubregionIndex } from "../src/svg/subregion-index.js";

// The picture finds the subregions whose window holds an address through an index; the oracle is the scan of the
// whole list, in list order (QEMU's render order), that the picture made before.
const childrenArb = fc.array(
  fc.record({
    addr: fc.integer({ min: 0, max: 0x40 }),
    size: fc.integer({ min: 1, max: 0x30 }),
    priority: fc.integer({ min: -1, max: 1 }),
  }),
  { minLength: 0, maxLength: 60 },
);

describe("SubregionIndex against a scan of the subregion list", () => {
  test.prop([childrenArb, fc.array(fc.integer({ min: 0, max: 0x80 }), { minLength: 1, maxLength: 20 })], {
    numRuns: 500,
  })("at(mr, offset) is the list's subregions with addr <= offset < addr + size, in list order", (specs, offsets) => {
    const host = new StandaloneHost();
    const mr = new MemoryRegion(host, { kind: "container", name: "c", size: 0x100n });
    specs.forEach((s, i) => {
      const child = new MemoryRegion(host, { kind: "ram", name: `r${i}`, size: BigInt(s.size) });
      mr.addSubregionOverlap(BigInt(s.addr), child, s.priority);
    });
    const index = new SubregionIndex();
    for (const o of offsets) {
      const offset = BigInt(o);
      const scan = mr.subregions.filter((c) => offset >= c.addr && offset < c.addr + c.size);
      expect(index.at(mr, offset).map((c) => c.name)).toEqual(scan.map((c) => c.name));
    }
    // A changed list is indexed again.
    const late = new MemoryRegion(host, { kind: "ram", name: "late", size: 0x10n });
    mr.addSubregionOverlap(0n, late, 2);
    expect(index.at(mr, 0n)[0]?.name).toBe("late");
  });
});
