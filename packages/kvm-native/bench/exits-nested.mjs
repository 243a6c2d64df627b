#!/usr/bin/env node
// Paired per-exit cost, all in one environment (the nested-KVM guest, or this host's /dev/kvm with
// `exits-nested.sh --direct`): memtopo's TypeScript dispatch against the addon's C loop, and QEMU + KVM
// against a raw /dev/kvm runner, interleaved across repeats so drift hits every variant alike.
//   node bench/exits-nested.mjs --work DIR [--n 2000] [--reps 3] [--json FILE]
// DIR holds what exits-nested.sh builds on the host: raw (from raw.c) and bios-<mode>-<count>.bin.
//
// memtopo share = TS µs/exit − C-loop µs/exit (same process, same guest, timed around the loop).
// QEMU share    = QEMU µs/exit − raw µs/exit, both timed by the guest itself (RDTSC around its
//                 loop, ticks read out through port 0x402), so process start and teardown are
//                 outside; the slope of whole-process wall time between COUNT = 0 and n is kept
//                 as a cross-check.
// With DIR/cputime (exits-nested.sh builds it from exits-nested/cputime.c) every variant's CPU
// time (user + system) is kept as well: in-process around the loop, for the processes the
// slope between COUNT = 0 and n. It leaves out the time other work on the machine took while
// a variant waited for a CPU, which wall time does not.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { probe, runVcpu } from "../dist/index.js";
import { addressSpaces } from "./exits-nested/spaces.mjs";
import { bareBus, openLoopVm } from "./loop-vm.mjs";

const { values: opt } = parseArgs({
  options: {
    work: { type: "string" },
    n: { type: "string", default: "2000" },
    reps: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
if (!opt.work) throw new Error("--work DIR is required (exits-nested.sh makes it)");
const n = Number(opt.n);
const reps = Number(opt.reps);
const KINDS = ["pio", "mmio"];
const MODE = { pio: 0, mmio: 1 };

const available = probe();
if (!available.ok) {
  console.error(`KVM unavailable (${available.reason}): ${available.detail}`);
  process.exit(77);
}

// --- in-process: the addon's C loop and runVcpu on one vCPU, the guest of bench/exits.mjs ---
const { vm, vcpu, prepare } = openLoopVm();

// The same accesses through memtopo's AddressSpaces (see exits-nested/spaces.mjs).
const spaces = addressSpaces();

function inProcess(kind, design) {
  prepare(kind === "pio" ? n : 0, kind === "mmio" ? n : 0);
  const buses = design === "as" ? spaces : { memory: bareBus, io: bareBus };
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const handled = design === "c" ? vcpu.benchExitLoop(n) : runVcpu(vcpu, buses, { maxExits: n }).exits;
  const ns = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  if (handled !== n) throw new Error(`${kind}/${design}: ${handled} exits, expected ${n}`);
  return { us: ns / n / 1000, cpuUs: (used.user + used.system) / n };
}

// --- whole processes: QEMU -M pc and raw.c on the same firmware image ---
function image(kind, count) {
  return path.join(opt.work, `bios-${MODE[kind]}-${count}.bin`);
}
const debugcon = path.join(opt.work, "debugcon.txt");
const qemuArgs = (img) => [
  ...["-M", "pc", "-accel", "kvm", "-display", "none", "-nodefaults", "-bios", img],
  ...["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
  ...["-chardev", `file,id=dbg,path=${debugcon}`, "-device", "isa-debugcon,iobase=0x402,chardev=dbg"],
];
const cputime = path.join(opt.work, "cputime");
const withCpu = fs.existsSync(cputime);
// One process at `count` exits: its wall time, its CPU time (with cputime), and the TSC ticks
// the guest counted around its loop.
function processRun(who, kind, count) {
  const img = image(kind, count);
  fs.rmSync(debugcon, { force: true });
  let [cmd, args, want] =
    who === "qemu" ? ["qemu-system-x86_64", qemuArgs(img), 1] : [path.join(opt.work, "raw"), [img], 0];
  if (withCpu) [cmd, args] = [cputime, [cmd, ...args]];
  const start = process.hrtime.bigint();
  const p = spawnSync(cmd, args, { encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  // isa-debug-exit turns the guest's write of 0 into status (0 << 1) | 1.
  if (p.status !== want) throw new Error(`${who} ${kind} ${count}: status ${p.status} ${p.error ?? ""} ${p.stderr}`);
  let cpu;
  if (withCpu) {
    const c = /^cputime: user=(\S+) sys=(\S+)$/m.exec(p.stderr);
    if (!c) throw new Error(`${who} ${kind} ${count}: no cputime line in ${p.stderr}`);
    cpu = Number(c[1]) + Number(c[2]);
  }
  if (who === "qemu") return { wall, cpu, ticks: Number.parseInt(fs.readFileSync(debugcon, "utf8").trim(), 16) };
  const m = /^exits=(\d+) loop_s=(\S+) tsc_hz=(\S+) guest=([0-9A-F]{16})$/.exec(p.stdout.trim());
  if (!m || Number(m[1]) !== count) throw new Error(`raw ${kind} ${count}: ${p.stdout}`);
  return { wall, cpu, ticks: Number.parseInt(m[4], 16), loopS: Number(m[2]), tscHz: Number(m[3]) };
}
function wholeProcess(who, kind) {
  const zero = processRun(who, kind, 0);
  const full = processRun(who, kind, n);
  const cpuUs = withCpu ? ((full.cpu - zero.cpu) / n) * 1e6 : undefined;
  return { wall0: zero.wall, wallN: full.wall, cpuUs, ticks: full.ticks, loopS: full.loopS, tscHz: full.tscHz };
}

const variants = {
  c: (k) => inProcess(k, "c"),
  ts: (k) => inProcess(k, "ts"),
  as: (k) => inProcess(k, "as"),
  raw: (k) => wholeProcess("raw", k),
  qemu: (k) => wholeProcess("qemu", k),
};
const t = Date.now();
// One untimed pass first: JIT warm-up for runVcpu, page faults for the vCPU's first runs.
for (const kind of KINDS) for (const design of ["c", "ts", "as"]) inProcess(kind, design);
const results = [];
for (let rep = 0; rep < reps; rep++) {
  // Alternate the order each repeat so slow drift does not always favour the same variant.
  const order = rep % 2 === 0 ? ["c", "ts", "as", "raw", "qemu"] : ["qemu", "raw", "as", "ts", "c"];
  for (const kind of KINDS) {
    for (const v of order) {
      const r = { rep, kind, variant: v, n, ...variants[v](kind) };
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
}
vm.close();

// The guest's TSC runs at the rate raw.c measured on the same (virtual) CPU around its KVM_RUN loop.
const rates = results.filter((r) => r.tscHz).map((r) => r.tscHz);
const tscHz = rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
for (const r of results) {
  if (r.ticks === undefined) continue;
  r.us = (r.ticks / tscHz / n) * 1e6;
  r.usSlope = ((r.wallN - r.wall0) / n) * 1e6;
}
const pick = (rep, kind, v) => results.find((r) => r.rep === rep && r.kind === kind && r.variant === v).us;
const pickCpu = (rep, kind, v) => results.find((r) => r.rep === rep && r.kind === kind && r.variant === v).cpuUs;
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, min: s[0], max: s[s.length - 1] };
};
const f = (x) => x.toFixed(1);
const fs3 = ({ median, min, max }) => `${f(median)} [${f(min)}–${f(max)}]`;
const summary = {};
console.log(
  `\n${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} vCPUs, Linux ${os.release()}, Node ${process.version}`,
);
console.log(`n = ${n} exits per timing, ${reps} repeats, ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
console.log(
  "| rep | exit | C loop | TS, bare bus | TS, AddressSpace | raw.c | QEMU | memtopo share (AS − C) | bare-bus share (TS − C) | QEMU share (QEMU − raw) |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const kind of KINDS) {
  for (let rep = 0; rep < reps; rep++) {
    const [c, ts, as, raw, q] = ["c", "ts", "as", "raw", "qemu"].map((v) => pick(rep, kind, v));
    const cells = [c, ts, as, raw, q, as - c, ts - c, q - raw].map(f).join(" | ");
    console.log(`| ${rep} | ${kind.toUpperCase()} | ${cells} |`);
  }
}
console.log(
  "\nµs per exit, median [min–max] over repeats; shares and ratios paired per repeat (the last column: the two shares' medians)\n",
);
console.log(
  "| exit | C loop | TS, bare bus | TS, AddressSpace | raw.c | QEMU | memtopo share | bare-bus share | QEMU share | memtopo / QEMU share | ratio of medians |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const kind of KINDS) {
  const per = (v) => Array.from({ length: reps }, (_, rep) => pick(rep, kind, v));
  const [c, ts, as, raw, q] = ["c", "ts", "as", "raw", "qemu"].map(per);
  const ours = as.map((x, i) => x - c[i]);
  const bare = ts.map((x, i) => x - c[i]);
  const theirs = q.map((x, i) => x - raw[i]);
  const ratio = ours.map((x, i) => x / theirs[i]);
  summary[kind] = {
    c: stat(c),
    ts: stat(ts),
    as: stat(as),
    raw: stat(raw),
    qemu: stat(q),
    ours: stat(ours),
    bare: stat(bare),
    theirs: stat(theirs),
    ratio: stat(ratio),
  };
  const s = summary[kind];
  const r = s.ratio;
  const cells = [s.c, s.ts, s.as, s.raw, s.qemu, s.ours, s.bare, s.theirs].map(fs3).join(" | ");
  console.log(
    `| ${kind.toUpperCase()} | ${cells} | ${r.median.toFixed(2)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}] | ${(s.ours.median / s.theirs.median).toFixed(2)} |`,
  );
}
if (withCpu) {
  console.log(
    "\nCPU time (user + system) per exit, µs, median [min–max]; raw.c and QEMU: slope of whole-process CPU time between COUNT = 0 and n\n",
  );
  console.log(
    "| exit | C loop | TS, bare bus | TS, AddressSpace | raw.c | QEMU | memtopo share | QEMU share | memtopo / QEMU share | ratio of medians |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const kind of KINDS) {
    const per = (v) => Array.from({ length: reps }, (_, rep) => pickCpu(rep, kind, v));
    const [c, ts, as, raw, q] = ["c", "ts", "as", "raw", "qemu"].map(per);
    const ours = stat(as.map((x, i) => x - c[i]));
    const theirs = stat(q.map((x, i) => x - raw[i]));
    const ratio = stat(as.map((x, i) => (x - c[i]) / (q[i] - raw[i])));
    summary[kind].cpu = { c: stat(c), ts: stat(ts), as: stat(as), raw: stat(raw), qemu: stat(q), ours, theirs, ratio };
    const cells = [stat(c), stat(ts), stat(as), stat(raw), stat(q), ours, theirs].map(fs3).join(" | ");
    console.log(
      `| ${kind.toUpperCase()} | ${cells} | ${ratio.median.toFixed(2)} [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}] | ${(ours.median / theirs.median).toFixed(2)} |`,
    );
  }
}
console.log(
  `\ncross-checks (TSC ${(tscHz / 1e6).toFixed(1)} MHz, as raw.c measured it), µs per exit, median [min–max]\n`,
);
console.log(
  "| exit | raw.c: guest TSC | raw.c: its clock around KVM_RUN | QEMU share: guest TSC | QEMU share: whole-process slope |",
);
console.log("|---|---|---|---|---|");
for (const kind of KINDS) {
  const rows = (v) => results.filter((r) => r.kind === kind && r.variant === v).sort((a, b) => a.rep - b.rep);
  const [raw, q] = [rows("raw"), rows("qemu")];
  const slopeShare = q.map((r, i) => r.usSlope - raw[i].usSlope);
  summary[kind].theirsSlope = stat(slopeShare);
  console.log(
    `| ${kind.toUpperCase()} | ${fs3(stat(raw.map((r) => r.us)))} | ${fs3(stat(raw.map((r) => (r.loopS / n) * 1e6)))} | ${fs3(summary[kind].theirs)} | ${fs3(stat(slopeShare))} |`,
  );
}
if (opt.json) fs.writeFileSync(opt.json, `${JSON.stringify({ n, reps, tscHz, results, summary }, null, 1)}\n`);
