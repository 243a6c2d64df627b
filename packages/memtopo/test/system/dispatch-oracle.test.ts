import { fc, test } from "@fast-check/vitest";
import { MEMTX_DECODE_ERROR, MEMTX_OK, MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MemorySystem } from "../../src/index.js";

const regionArb = fc.record({
  kind: fc.constantFrom("ram" as const, "rom" as const, "alias" as const),
  addr: fc.nat(0x400),
  size: fc.integer({ min: 1, max: 0x100 }),
  prio: fc.integer({ min: 0, max: 2 }),
  readonly: fc.boolean(),
  target: fc.nat(),
  offset: fc.nat(0x80),
});
const accessArb = fc.record({
  write: fc.boolean(),
  addr: fc.nat(0x520),
  len: fc.integer({ min: 1, max: 64 }),
  seed: fc.nat(255),
});

describe("access path against a byte-by-byte oracle (flatview_read/flatview_write)", () => {
  test.prop([fc.array(regionArb, { minLength: 1, maxLength: 6 }), fc.array(accessArb, { maxLength: 30 })], {
    numRuns: 200,
  })(
    "RAM and ROM reads/writes through the view equal a per-byte model: direct RAM, ROM writes dropped with DECODE_ERROR, gaps read 0",
    (specs, accesses) => {
      const sys = new MemorySystem();
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const backing: MemoryRegion[] = [];
      for (const [i, s] of specs.entries()) {
        let mr: MemoryRegion;
        if (s.kind === "alias" && backing.length > 0) {
          const target = backing[s.target % backing.length]!;
          const offset = BigInt(s.offset) % target.size;
          const size = BigInt(s.size) < target.size - offset ? BigInt(s.size) : target.size - offset;
          mr = new MemoryRegion(sys, { kind: "alias", name: `a${i}`, size, target, offset });
          if (s.readonly) mr.setReadonly(true);
        } else {
          mr = new MemoryRegion(sys, { kind: s.kind === "rom" ? "rom" : "ram", name: `r${i}`, size: BigInt(s.size) });
          mr.ramBlock!.bytes().forEach((_, j, a) => {
            a[j] = (i * 31 + j) & 0xff;
          });
          backing.push(mr);
        }
        system.addSubregionOverlap(BigInt(s.addr), mr, s.prio);
      }
      const memory = sys.createAddressSpace("memory", system);
      // the oracle: a shadow copy of every RAM block, and a linear scan of the view per byte
      const shadow = new Map(backing.map((mr) => [mr, Uint8Array.from(mr.ramBlock!.bytes())]));
      const at = (a: number) => {
        const r = memory.currentMap.ranges.find((x) => BigInt(a) >= x.start && BigInt(a) < x.start + x.size);
        return r === undefined ? undefined : { mr: r.mr, off: Number(BigInt(a) - r.start + r.offsetInRegion) };
      };
      for (const acc of accesses) {
        const data = Uint8Array.from({ length: acc.len }, (_, j) => (acc.seed + j * 7) & 0xff);
        let decode = false;
        const expected = new Uint8Array(acc.len);
        // Step by step as the rule says: RAM reads (and RAM writes) run to the end of their range; a gap,
        // or a write to ROM, is an MMIO step of pow2floor(min(left, 4, alignment)) bytes that covers
        // whatever lies there (`flatview_write_continue`: MMIO lengths are not clamped to the range).
        for (let j = 0; j < acc.len; ) {
          const a = acc.addr + j;
          const hit = at(a);
          const left = acc.len - j;
          if (hit !== undefined && !(acc.write && hit.mr.readonly)) {
            const r = memory.currentMap.lookup(BigInt(a))!;
            const n = Math.min(left, Number(r.start + r.size - BigInt(a)));
            const bytes = shadow.get(hit.mr)!;
            for (let k = 0; k < n; k++) {
              if (acc.write) bytes[hit.off + k] = data[j + k]!;
              else expected[j + k] = bytes[hit.off + k]!;
            }
            j += n;
            continue;
          }
          decode = true;
          let max = 4;
          while (a % max !== 0) max /= 2;
          let n = Math.min(left, max);
          if (hit !== undefined) {
            const r = memory.currentMap.lookup(BigInt(a))!;
            n = Math.min(n, Number(r.start + r.size - BigInt(a)));
          }
          n = 2 ** Math.floor(Math.log2(n));
          j += n;
        }
        const result = acc.write ? memory.write(BigInt(acc.addr), data) : memory.read(BigInt(acc.addr), data);
        expect(result).toBe(decode ? MEMTX_DECODE_ERROR : MEMTX_OK);
        if (!acc.write) expect([...data]).toEqual([...expected]);
        for (const [mr, bytes] of shadow) expect([...mr.ramBlock!.bytes()]).toEqual([...bytes]);
      }
    },
  );
});
