import { renderFlatView } from "@memtopo/flatview";
import { syntheticMap } from "./synthetic-map.mjs";

/**
 * The synthetic map (synthetic-map.mjs) up to a million regions:
 * - `render-scale`: a full render (`renderFlatView`) at 10× steps; `growth` is the time ratio to the previous
 *   step (10 is linear);
 * - `heap-scale`: heap bytes per region (the tree) and per FlatRange (the view, its lookup index built),
 *   measured after GC (needs node --expose-gc, which `pnpm bench` passes).
 */
let previous = null;

export const cases = [
  {
    name: "render-scale",
    params: [10_000, 100_000, 1_000_000],
    samples: 3,
    setup(n) {
      const { system } = syntheticMap(n);
      const ranges = renderFlatView(system).ranges.length;
      return { fn: () => renderFlatView(system), extra: { ranges } };
    },
    report(us, n) {
      const growth = previous === null || previous.n * 10 !== n ? "" : Math.round((us / previous.us) * 10) / 10;
      previous = { n, us };
      return { ms: Math.round(us / 10) / 100, growth };
    },
  },
  {
    name: "heap-scale",
    params: [1_000_000],
    samples: 1,
    setup(n) {
      globalThis.gc?.();
      const empty = process.memoryUsage().heapUsed;
      const { system } = syntheticMap(n);
      globalThis.gc?.();
      const tree = process.memoryUsage().heapUsed;
      const view = renderFlatView(system);
      for (const r of view.ranges) view.lookup(r.start);
      globalThis.gc?.();
      const both = process.memoryUsage().heapUsed;
      return {
        fn: () => view.ranges.length + (system.size > 0n ? 0 : 1),
        extra: {
          ranges: view.ranges.length,
          bytes_per_region: Math.round((tree - empty) / n),
          bytes_per_range: Math.round((both - tree) / view.ranges.length),
          gc: globalThis.gc !== undefined,
        },
      };
    },
    report: () => ({}),
  },
];
