// Commits per second for one change (one region toggled) in a map of N regions, with 1
// address space, 100 address spaces sharing the view (cpu-memory-N style), and 100 address
// spaces each with a view of its own. Every space has one listener, so every commit runs
// the full QEMU diff (begin, region_nop for every range, del/add, commit) per space.
import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

const SIZE_2_64 = 1n << 64n;
const PAGE = 0x1000n;

function build(n, spaces, distinct) {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  sys.begin();
  let toggled = null;
  for (let i = 0; i < n; i++) {
    const kind = i % 4 === 0 ? "io" : "ram";
    const mr = new MemoryRegion(sys, { kind, name: `r${i}`, size: PAGE });
    system.addSubregion(BigInt(i) * 2n * PAGE, mr);
    if (i === n >> 1) toggled = mr;
  }
  sys.commit();
  for (let s = 0; s < spaces; s++) {
    let root = system;
    if (distinct && s > 0) {
      // a root of its own that does not resolve to `system`: a container with the whole map and one device
      root = new MemoryRegion(sys, { kind: "container", name: `root${s}`, size: SIZE_2_64 });
      root.addSubregion(
        0n,
        new MemoryRegion(sys, { kind: "alias", name: `all${s}`, size: SIZE_2_64, target: system, offset: 0n }),
      );
      root.addSubregionOverlap(0n, new MemoryRegion(sys, { kind: "io", name: `dev${s}`, size: PAGE }), 1);
    }
    const listener = { regionAdd() {}, regionDel() {}, regionNop() {} };
    sys.registerListener(listener, sys.createAddressSpace(`as${s}`, root));
  }
  let on = true;
  return {
    fn: () => {
      on = !on;
      toggled.setEnabled(on);
    },
    extra: { regions: n, spaces, views: new Set(sys.addressSpaces.map((a) => a.currentMap)).size },
  };
}

const report = (us) => ({ us_per_commit: Math.round(us * 10) / 10, commits_per_sec: Math.round(1e6 / us) });

export const cases = [
  { name: "commit-1as", params: [1_000, 10_000], setup: (n) => build(n, 1, false), report },
  { name: "commit-100as-shared", params: [1_000, 10_000], setup: (n) => build(n, 100, false), report },
  { name: "commit-100as-distinct", params: [1_000, 10_000], setup: (n) => build(n, 100, true), report },
];
