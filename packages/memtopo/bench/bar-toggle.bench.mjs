import { q35WithBars } from "./q35-bars.mjs";

/** One BAR toggle = one commit, as QEMU's memory-enable bit in the PCI command register does. */
export const cases = [
  {
    name: "commit",
    params: [1, 8, 32, 64, 128, 512],
    setup(n) {
      const { sys, memory, bars } = q35WithBars(n);
      const { bus, bar, addr } = bars[0];
      let mapped = true;
      return {
        fn: () => {
          if (mapped) bus.delSubregion(bar);
          else bus.addSubregionOverlap(addr, bar, 1);
          mapped = !mapped;
        },
        extra: {
          ranges: memory.currentMap.ranges.length,
          address_spaces: sys.addressSpaces.length,
          views: new Set(sys.addressSpaces.map((as) => as.currentMap)).size,
        },
      };
    },
    report: (us) => ({ us_per_commit: Math.round(us * 100) / 100 }),
  },
];
