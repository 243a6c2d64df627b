#!/usr/bin/env node
// Exit throughput: PIO and MMIO exits per second with TypeScript dispatch
// (runVcpu + GuestBus) against a pure C loop in the same addon (the limit).
// Needs /dev/kvm and a build (`pnpm build`); prints a markdown table.
//   node bench/exits.mjs [exitsPerRun=100000] [runs=5]
import os from "node:os";
import { probe, runVcpu } from "../dist/index.js";
import { bareBus, openLoopVm } from "./loop-vm.mjs";

const exitsPerRun = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);

const available = probe();
if (!available.ok) {
  console.log(`KVM unavailable (${available.reason}): ${available.detail}`);
  process.exit(0);
}

const { vm, vcpu, prepare } = openLoopVm();

function once(kind, design) {
  prepare(kind === "pio" ? exitsPerRun : 0, kind === "mmio" ? exitsPerRun : 0);
  const start = process.hrtime.bigint();
  let handled;
  if (design === "c") handled = vcpu.benchExitLoop(exitsPerRun);
  else handled = runVcpu(vcpu, { memory: bareBus, io: bareBus }, { maxExits: exitsPerRun }).exits;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (handled !== exitsPerRun) throw new Error(`${kind}/${design}: ${handled} exits, expected ${exitsPerRun}`);
  return handled / seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const kind of ["pio", "mmio"]) {
  once(kind, "ts"); // JIT warm-up, untimed
  // C and TypeScript alternate run by run (in turns), so that drift hits both alike.
  const rates = { c: [], ts: [] };
  for (let i = 0; i < runs; i++) {
    for (const design of i % 2 === 0 ? ["c", "ts"] : ["ts", "c"]) rates[design].push(once(kind, design));
  }
  const c = median(rates.c);
  const ts = median(rates.ts);
  rows.push({ kind, c, ts, ratio: ts / c });
}
vm.close();

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`machine: ${cpu}, ${os.cpus().length} cores, Linux ${os.release()}, Node ${process.version}`);
console.log(
  `command: node bench/exits.mjs ${exitsPerRun} ${runs} (median of ${runs} runs of ${exitsPerRun} exits, C and TS alternating)\n`,
);
console.log("| exit | C loop (exits/s) | TypeScript runVcpu (exits/s) | TS / C |");
console.log("|---|---|---|---|");
for (const r of rows) {
  const f = (x) => Math.round(x).toLocaleString("en-US");
  console.log(
    `| ${r.kind.toUpperCase()} | ${f(r.c)} (${(1e6 / r.c).toFixed(1)} µs) | ${f(r.ts)} (${(1e6 / r.ts).toFixed(1)} µs) | ${r.ratio.toFixed(3)} |`,
  );
}
