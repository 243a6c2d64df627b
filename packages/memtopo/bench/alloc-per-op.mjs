// Bytes allocated per operation of the commit benchmarks (`commit` N = 1/128/512, `pam` in 1 or 2
// transactions, `hot-add`), from V8's sampling heap profiler with the objects young and full
// collections freed kept in the sample: what a commit costs the garbage collector, which CPU time
// alone hides. Optionally the top allocating functions of each case.
//
//   node packages/memtopo/bench/alloc-per-op.mjs [ops] [top]     (after `pnpm build`)
import { Session } from "node:inspector/promises";
import { cases as barCases } from "./bar-toggle.bench.mjs";
import { cases as q35Cases } from "./q35-pam-hotadd.bench.mjs";

const ops = Number(process.argv[2] ?? 20000);
const top = Number(process.argv[3] ?? 0);
const runs = [...[1, 128, 512].map((n) => ["commit", n]), ["pam", 1], ["pam", 2], ["hot-add", 128]];
const all = [...barCases, ...q35Cases];
const session = new Session();
session.connect();
for (const [name, param] of runs) {
  const prepared = await all.find((c) => c.name === name).setup(param);
  const fn = typeof prepared === "function" ? prepared : prepared.fn;
  for (let i = 0; i < 20000; i++) fn();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < ops; i++) fn();
  const { profile } = await session.post("HeapProfiler.stopSampling");
  const bySite = new Map();
  let total = 0;
  const stack = [profile.head];
  while (stack.length > 0) {
    const node = stack.pop();
    total += node.selfSize;
    if (node.selfSize > 0) {
      const site = `${node.callFrame.functionName || "(anonymous)"}:${node.callFrame.lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) stack.push(child);
  }
  const sites = [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([site, bytes]) => ({ site, bytes_per_op: Math.round(bytes / ops) }));
  console.log(
    JSON.stringify({
      bench: name,
      n: param,
      bytes_per_op: Math.round(total / ops),
      ops,
      ...(top > 0 ? { sites } : {}),
    }),
  );
}
session.disconnect();
