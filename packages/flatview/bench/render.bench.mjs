import { renderFlatView } from "@memtopo/flatview";
import { syntheticMap } from "./synthetic-map.mjs";

export const cases = [
  {
    name: "render",
    params: [1_000, 10_000, 100_000],
    setup(n) {
      const { system } = syntheticMap(n);
      const ranges = renderFlatView(system).ranges.length;
      return { fn: () => renderFlatView(system), extra: { ranges } };
    },
    report: (us) => ({ us_per_render: Math.round(us * 10) / 10 }),
  },
  {
    // Every lookup in a uniformly random range, at a random offset: the last range found almost
    // never holds the next address, and 64Ki probes are too many for the branch predictor to learn.
    name: "lookup",
    params: [10_000],
    setup(n) {
      const view = renderFlatView(syntheticMap(n).system);
      return lookupCase(view, randomProbes(view.ranges, 65_536, 1));
    },
    report: lookupReport,
  },
  {
    // Runs of 16 lookups in one range, then another random range: a device's registers, a copy.
    name: "lookup-clustered",
    params: [10_000],
    setup(n) {
      const view = renderFlatView(syntheticMap(n).system);
      return lookupCase(view, randomProbes(view.ranges, 65_536, 16));
    },
    report: lookupReport,
  },
];

function lookupCase(view, probes) {
  return {
    fn: () => {
      let hit = 0;
      for (const a of probes) if (view.lookup(a) !== undefined) hit++;
      return hit;
    },
    extra: { ranges: view.ranges.length, probes: probes.length },
  };
}

function lookupReport(us, _n, extra) {
  return { lookups_per_sec: Math.round(extra.probes / (us / 1e6)) };
}

/** `count` addresses from a fixed seed, in runs of `run` addresses inside one randomly chosen range. */
function randomProbes(ranges, count, run) {
  let seed = 0x9e3779b9;
  const random = () => {
    // mulberry32: a small PRNG, so every run measures the same addresses.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const probes = [];
  while (probes.length < count) {
    const r = ranges[Math.floor(random() * ranges.length)];
    for (let i = 0; i < run; i++) probes.push(r.start + BigInt(Math.floor(random() * Number(r.size))));
  }
  return probes;
}

/** Heap bytes held per FlatRange: a 100k-region view, measured after GC (needs node --expose-gc). */
cases.push({
  name: "memory",
  params: [100_000],
  setup(n) {
    const { system } = syntheticMap(n);
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const view = renderFlatView(system);
    // Enough lookups to build the lookup index, part of what a used view holds.
    for (const r of view.ranges) view.lookup(r.start);
    globalThis.gc?.();
    const bytes = process.memoryUsage().heapUsed - before;
    return {
      fn: () => view.ranges.length,
      extra: {
        ranges: view.ranges.length,
        bytes_per_range: Math.round(bytes / view.ranges.length),
        gc: globalThis.gc !== undefined,
      },
    };
  },
  report: () => ({}),
});
