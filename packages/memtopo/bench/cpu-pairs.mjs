// The commit benchmarks (`commit`, `pam`, `hot-add`) timed by this process's CPU time instead of
// wall time, to pair with the CPU time QEMU's anchor scripts report (commit.py's commit_cpu_us,
// qemu-pam-hotadd.py's toggle_cpu_us) on a machine other jobs share: CPU time leaves out the time
// the process waited for a core. Each case runs `chunks` chunks of `ops` operations after a
// warm-up; prints one JSON line per case with the minimum and median µs per operation.
//
//   node packages/memtopo/bench/cpu-pairs.mjs [chunks] [ops]     (after `pnpm build`)
import { cases as barCases } from "./bar-toggle.bench.mjs";
import { cases as q35Cases } from "./q35-pam-hotadd.bench.mjs";

const chunks = Number(process.argv[2] ?? 15);
const ops = Number(process.argv[3] ?? 2000);
const runs = [...[1, 128, 512].map((n) => ["commit", n]), ["pam", 1], ["pam", 2], ["hot-add", 128]];
const all = [...barCases, ...q35Cases];
for (const [name, param] of runs) {
  const prepared = await all.find((c) => c.name === name).setup(param);
  const fn = typeof prepared === "function" ? prepared : prepared.fn;
  for (let i = 0; i < 10 * ops; i++) fn();
  const per = [];
  for (let c = 0; c < chunks; c++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < ops; i++) fn();
    const d = process.cpuUsage(t0);
    per.push((d.user + d.system) / ops);
  }
  per.sort((a, b) => a - b);
  const round = (x) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      bench: name,
      n: param,
      cpu_us_min: round(per[0]),
      cpu_us_median: round(per[chunks >> 1]),
      chunks,
      ops,
    }),
  );
}
