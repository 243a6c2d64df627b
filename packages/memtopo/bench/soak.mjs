#!/usr/bin/env node
// Soak: N random commits (default 1 000 000) against the mock KVM backend, with a listener
// that keeps a replica of the view from region_add/region_del and checks it against
// `currentMap` at every commit, and the KVM slots checked against the view every 10 000
// commits. Heap use after GC is sampled every 10 % (run with node --expose-gc).
// Usage: node --expose-gc packages/memtopo/bench/soak.mjs [commits] [seed]
import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

const commits = Number(process.argv[2] ?? 1_000_000);
let seed = Number(process.argv[3] ?? 1);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const PAGE = 0x1000n;

const kernel = new MockKvm();
const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
const system = new MemoryRegion(sys, { kind: "container", name: "system", size: 1n << 64n });
const regions = [];
sys.begin();
for (let i = 0; i < 32; i++) {
  const kind = ["ram", "rom", "io"][i % 3];
  const mr = new MemoryRegion(sys, { kind, name: `r${i}`, size: BigInt(1 + (i % 4)) * PAGE });
  system.addSubregionOverlap(BigInt(i) * 4n * PAGE, mr, i % 3);
  regions.push(mr);
}
sys.commit();
const memory = sys.createAddressSpace("memory", system);
const replica = new Map();
let inconsistencies = 0;
const key = (s) => `${s.offsetWithinAddressSpace}`;
sys.registerListener(
  {
    regionAdd: (s) => replica.set(key(s), s),
    regionDel: (s) => replica.delete(key(s)),
    commit: () => {
      const view = memory.currentMap.ranges;
      if (view.length !== replica.size) inconsistencies++;
      else for (const r of view) if (replica.get(`${r.start}`)?.size !== r.size) inconsistencies++;
    },
  },
  memory,
);
const kvm = attachKvm(sys, kernel, { memory });

const samples = [];
const start = performance.now();
for (let i = 1; i <= commits; i++) {
  const mr = regions[Math.floor(random() * regions.length)];
  const r = random();
  if (r < 0.5) mr.setEnabled(!mr.enabled);
  else if (r < 0.9) mr.setAddress(BigInt(Math.floor(random() * 160)) * PAGE);
  else mr.setReadonly(!mr.readonly);
  // The mock kernel records every call for assertions; the soak measures memtopo, not that log.
  if (i % 1000 === 0) kernel.clearCalls();
  if (i % 10_000 === 0) {
    const ramRanges = memory.currentMap.ranges.filter((x) => x.mr.ramBlock !== null).length;
    if (kvm.memory.slots.length !== ramRanges || kernel.memslots().length !== ramRanges) inconsistencies++;
  }
  if (i % Math.max(1, Math.floor(commits / 10)) === 0) {
    globalThis.gc?.();
    samples.push({ commits: i, heapMiB: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10 });
  }
}
const seconds = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    commits,
    seconds: Math.round(seconds),
    usPerCommit: Math.round(((seconds * 1e6) / commits) * 10) / 10,
    inconsistencies,
    gc: globalThis.gc !== undefined,
    heap: samples,
  }),
);
process.exit(inconsistencies === 0 ? 0 : 1);
