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
    name: "lookup",
    params: [10_000],
    setup(n) {
      const view = renderFlatView(syntheticMap(n).system);
      const addrs = view.ranges.map((r) => r.start + r.size / 2n);
      // 1024 lookups per call so the timer's resolution does not dominate.
      const probes = Array.from({ length: 1024 }, (_, i) => addrs[(i * 7919) % addrs.length]);
      return {
        fn: () => {
          let hit = 0;
          for (const a of probes) if (view.lookup(a) !== undefined) hit++;
          return hit;
        },
        extra: { ranges: view.ranges.length },
      };
    },
    report: (us) => ({ lookups_per_sec: Math.round(1024 / (us / 1e6)) }),
  },
];

/** Heap bytes held per FlatRange: a 100k-region view, measured after GC (needs node --expose-gc). */
cases.push({
  name: "memory",
  params: [100_000],
  setup(n) {
    const { system } = syntheticMap(n);
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const view = renderFlatView(system);
    view.lookup(0n); // builds the lookup arrays, part of what a used view holds
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
