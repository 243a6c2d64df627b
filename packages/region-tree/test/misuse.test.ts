import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EventNotifier, MemoryRegion, MemtopoError, RegionTreeError, StandaloneHost } from "../src/index.js";

function snapshot(all: readonly MemoryRegion[]): string {
  return JSON.stringify(
    all.map((r) => ({
      c: r.container?.id ?? null,
      addr: r.addr.toString(16),
      size: r.size.toString(16),
      prio: r.priority,
      subs: r.subregions.map((s) => s.id),
      en: r.enabled,
      ro: r.readonly,
      nv: r.nonvolatile,
      romd: r.romdMode,
      ao: r.aliasOffset.toString(16),
      log: r.dirtyLogMask,
      ev: r.ioeventfds.map((e) => [
        e.start.toString(16),
        e.size.toString(),
        e.matchData,
        e.data.toString(16),
        e.notifier.id,
      ]),
      mva: r.mappedViaAlias,
    })),
  );
}

const notifier = (id: number): EventNotifier => ({ id, signal() {} });

const bigArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x20000n }),
  fc.constantFrom(-1n, 1n << 64n, (1n << 64n) - 1n, (1n << 65n) + 3n),
);
const anyArb = fc.oneof(bigArb, fc.integer(), fc.double(), fc.string(), fc.constant(null), fc.boolean());

const opArb = fc.record({
  op: fc.constantFrom(
    "add",
    "addOverlap",
    "del",
    "enable",
    "size",
    "address",
    "aliasOffset",
    "readonly",
    "romd",
    "log",
    "addEventfd",
    "delEventfd",
  ),
  a: fc.nat(),
  b: fc.nat(),
  value: anyArb,
  good: fc.boolean(),
  num: fc.oneof(fc.integer({ min: -3, max: 9 }), fc.double()),
});

describe("misuse leaves the tree unchanged (typed errors)", () => {
  it("random calls with good and hostile arguments: either succeed or throw a RegionTreeError with nothing changed", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const host = new StandaloneHost();
        const root = new MemoryRegion(host, { kind: "container", name: "root", size: 0x100000n });
        const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 0x10000n });
        const flash = new MemoryRegion(host, { kind: "rom-device", name: "flash", size: 0x1000n, ops: {} });
        const io = new MemoryRegion(host, { kind: "io", name: "io", size: 0x100n });
        const alias = new MemoryRegion(host, {
          kind: "alias",
          name: "al",
          size: 0x8000n,
          target: ram,
          offset: 0x1000n,
        });
        const inner = new MemoryRegion(host, { kind: "container", name: "inner", size: 0x20000n });
        const loop = new MemoryRegion(host, { kind: "alias", name: "loop", size: 0x20000n, target: inner, offset: 0n });
        const all = [root, ram, flash, io, alias, inner, loop];
        for (const o of ops) {
          const x = all[o.a % all.length]!;
          const y = all[o.b % all.length]!;
          const v = o.good && typeof o.value === "bigint" ? o.value : o.value;
          const before = snapshot(all);
          try {
            switch (o.op) {
              case "add":
                x.addSubregion(v as bigint, y);
                break;
              case "addOverlap":
                x.addSubregionOverlap(v as bigint, y, o.num);
                break;
              case "del":
                x.delSubregion(y);
                break;
              case "enable":
                x.setEnabled(v as boolean);
                break;
              case "size":
                x.setSize(v as bigint);
                break;
              case "address":
                x.setAddress(v as bigint);
                break;
              case "aliasOffset":
                x.setAliasOffset(v as bigint);
                break;
              case "readonly":
                x.setReadonly(v as boolean);
                break;
              case "romd":
                x.setRomdMode(v as boolean);
                break;
              case "log":
                x.setLog(v as boolean);
                break;
              case "addEventfd":
                x.addEventfd(v as bigint, o.num, o.good, 0n, notifier(o.b));
                break;
              case "delEventfd":
                x.delEventfd(v as bigint, o.num, o.good, 0n, notifier(o.b));
                break;
            }
          } catch (e) {
            expect(e).toBeInstanceOf(RegionTreeError);
            expect(e).toBeInstanceOf(MemtopoError);
            expect((e as MemtopoError).code).toMatch(/^E_[A-Z_]+$/);
            expect(snapshot(all)).toBe(before);
          }
          expect(host.depth).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
