// Listener events per second: one region toggled in a map of N ranges whose space has a
// listener with region_nop, so each commit delivers QEMU's full diff (N nops plus the change).
import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

export const cases = [
  {
    name: "events",
    params: [10_000],
    setup(n) {
      const sys = new MemorySystem();
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: 1n << 64n });
      sys.begin();
      const regions = [];
      for (let i = 0; i < n; i++) {
        const mr = new MemoryRegion(sys, { kind: i % 2 ? "ram" : "io", name: `r${i}`, size: 0x1000n });
        system.addSubregion(BigInt(i) * 0x2000n, mr);
        regions.push(mr);
      }
      sys.commit();
      let events = 0;
      const count = () => {
        events++;
      };
      sys.registerListener(
        { regionAdd: count, regionDel: count, regionNop: count },
        sys.createAddressSpace("memory", system),
      );
      const toggled = regions[n >> 1];
      let on = false;
      events = 0;
      toggled.setEnabled(on);
      const perCommit = events;
      return {
        fn: () => {
          on = !on;
          toggled.setEnabled(on);
        },
        extra: { events_per_commit: perCommit },
      };
    },
    report: (us, _n, extra) => ({
      us_per_commit: Math.round(us * 10) / 10,
      events_per_sec: Math.round((extra.events_per_commit / us) * 1e6),
    }),
  },
];
