import type { FlatRange } from "@memtopo/flatview";
import { FlatView } from "@memtopo/flatview";
import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ListenerCalls, type MemoryListener, updateTopology, updateTopologyPass } from "../src/index.js";

const host = new StandaloneHost();
const regions = [0, 1, 2].map((i) => new MemoryRegion(host, { kind: "ram", name: `r${i}`, size: 1n << 20n }));

function ranges(spec: { gap: number; size: number; mr: number; ro: boolean; mask: number }[], from = 0n): FlatRange[] {
  let pos = from;
  return spec.map((s) => {
    pos += BigInt(s.gap);
    const r: FlatRange = {
      mr: regions[s.mr]!,
      start: pos,
      size: BigInt(s.size),
      offsetInRegion: 0n,
      dirtyLogMask: s.mask,
      romdMode: true,
      readonly: s.ro,
      nonvolatile: false,
    };
    pos += BigInt(s.size);
    return r;
  });
}

const specArb = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 3 }),
    size: fc.integer({ min: 1, max: 4 }),
    mr: fc.integer({ min: 0, max: 2 }),
    ro: fc.boolean(),
    mask: fc.integer({ min: 0, max: 1 }),
  }),
  { maxLength: 8 },
);

function recorder(log: string[], name: string): MemoryListener {
  const note = (what: string) => (s: { offsetWithinAddressSpace: bigint; size: bigint }) =>
    log.push(`${name} ${what} ${s.offsetWithinAddressSpace}+${s.size}`);
  return {
    name,
    regionAdd: note("add"),
    regionDel: note("del"),
    logStart: note("log_start"),
    logStop: note("log_stop"),
  };
}

describe("updateTopology skips shared leading and trailing ranges only when that changes nothing", () => {
  it("calls equal the full two-pass walk for listeners without region_nop", () => {
    fc.assert(
      fc.property(specArb, specArb, specArb, specArb, (headSpec, oldMid, newMid, tailSpec) => {
        const head = ranges(headSpec);
        const base = 1000n;
        const tail = ranges(tailSpec, 2000n);
        const oldRanges = [...head, ...ranges(oldMid, base), ...tail];
        const newRanges = [...head, ...ranges(newMid, base), ...tail];
        const old = new FlatView(null, oldRanges);
        const next = new FlatView(null, newRanges);
        const fast: string[] = [];
        const slow: string[] = [];
        const lf = [recorder(fast, "a"), recorder(fast, "b")];
        const ls = [recorder(slow, "a"), recorder(slow, "b")];
        updateTopology(new ListenerCalls(), lf, old, next);
        const calls = new ListenerCalls();
        updateTopologyPass(calls, ls, oldRanges, newRanges, old, false);
        updateTopologyPass(calls, ls, oldRanges, newRanges, old, true);
        expect(fast).toEqual(slow);
      }),
      { numRuns: 500 },
    );
  });
});
