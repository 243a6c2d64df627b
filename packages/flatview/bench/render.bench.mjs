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
