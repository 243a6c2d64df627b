#!/usr/bin/env node
// memtopo's own share of an exit with less noise than exits-nested.sh: the addon's C loop, runVcpu on
// a bare bus and runVcpu on memtopo AddressSpaces, timed in short chunks of `n` exits, interleaved
// (order reversed every other pair) `pairs` times, so that the drift of the nested hypervisor, which
// moves a single exit by ±1 µs, hits the three alike. Prints the median and the 20 % trimmed mean
// of the paired differences. It measures memtopo only; QEMU's share needs exits-nested.sh.
//   node bench/exit-share.mjs [n=2000] [pairs=300] [pio,mmio]
import os from "node:os";
import { runVcpu } from "../dist/index.js";
import { addressSpaces } from "./exits-nested/spaces.mjs";
import { bareBus, openLoopVm } from "./loop-vm.mjs";

const n = Number(process.argv[2] ?? 2000);
const pairs = Number(process.argv[3] ?? 300);
const kinds = (process.argv[4] ?? "pio,mmio").split(",");
const DESIGNS = ["c", "ts", "as"];
const { vcpu, prepare } = openLoopVm();
const spaces = addressSpaces();
const bare = { memory: bareBus, io: bareBus };

function timed(kind, design) {
  prepare(kind === "pio" ? n : 0, kind === "mmio" ? n : 0);
  const start = process.hrtime.bigint();
  const handled =
    design === "c" ? vcpu.benchExitLoop(n) : runVcpu(vcpu, design === "as" ? spaces : bare, { maxExits: n }).exits;
  const ns = Number(process.hrtime.bigint() - start);
  if (handled !== n) throw new Error(`${kind}/${design}: ${handled} exits, expected ${n}`);
  return ns / n / 1000;
}

const sorted = (a) => [...a].sort((x, y) => x - y);
const median = (a) => sorted(a)[a.length >> 1];
const trimmedMean = (a) => {
  const s = sorted(a);
  const k = Math.floor(s.length / 5);
  const kept = s.slice(k, s.length - k);
  return kept.reduce((x, y) => x + y, 0) / kept.length;
};

// Untimed chunks first: JIT warm-up and the vCPU's first page faults.
for (let i = 0; i < 5; i++) for (const kind of kinds) for (const design of DESIGNS) timed(kind, design);
console.log(
  `${os.cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString()}, load ${os.loadavg()[0].toFixed(2)}`,
);
console.log(`node bench/exit-share.mjs ${n} ${pairs} ${kinds.join(",")}`);
console.log("| exit | C loop µs | bare bus − C (median / trimmed mean) | AddressSpace − C (median / trimmed mean) |");
console.log("|---|---:|---:|---:|");
for (const kind of kinds) {
  const c = [];
  const ts = [];
  const as = [];
  for (let p = 0; p < pairs; p++) {
    const t = {};
    for (const design of p % 2 === 0 ? DESIGNS : [...DESIGNS].reverse()) t[design] = timed(kind, design);
    c.push(t.c);
    ts.push(t.ts - t.c);
    as.push(t.as - t.c);
  }
  const cell = (a) => `${median(a).toFixed(3)} / ${trimmedMean(a).toFixed(3)}`;
  console.log(`| ${kind.toUpperCase()} | ${median(c).toFixed(2)} | ${cell(ts)} | ${cell(as)} |`);
}
