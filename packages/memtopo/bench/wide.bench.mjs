import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

/**
 * The "siblings" shape: one container given N equal-priority RAM children in one transaction, then the
 * commit that renders them. At 10× steps; `growth` is the time ratio to the previous step (10 means linear).
 */
let previous = null;

export const cases = [
  {
    name: "wide-siblings",
    params: [1_000, 10_000, 100_000],
    setup(n) {
      return () => {
        const system = new MemorySystem();
        const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 40n });
        system.createAddressSpace("memory", root);
        system.begin();
        for (let i = 0; i < n; i++) {
          root.addSubregion(
            BigInt(i) * 0x1000n,
            new MemoryRegion(system, { kind: "ram", name: `r${i}`, size: 0x1000n }),
          );
        }
        system.commit();
      };
    },
    report(us, n) {
      const growth = previous === null || previous.n * 10 !== n ? "" : Math.round((us / previous.us) * 10) / 10;
      previous = { n, us };
      return { ms: Math.round(us / 10) / 100, us_per_child: Math.round((us / n) * 100) / 100, growth };
    },
  },
];
