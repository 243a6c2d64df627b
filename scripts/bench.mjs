#!/usr/bin/env node
// `pnpm bench [name…] [--n N] [--json] [--chart F] [--qemu F]`: builds the packages, then runs the benchmark
// cases that every `packages/*/bench/*.bench.mjs` exports, measured with mitata.
// A case is { name, params: [..], setup(param) -> fn | { fn, extra }, report(avgUs, param, extra), samples? };
// each (case, param) is measured in this one process so their numbers compare as ratios.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { measure } from "mitata";
import { lineChart } from "./lib/chart.mjs";
import { quietBuild } from "./lib/quiet-build.mjs";

/** QEMU 7.2's cost of the same commit on this machine kind (measured with KVM, BM off; docs/benchmarks.md). */
const QEMU_COMMIT_US = [
  [1, 39.9],
  [8, 48.8],
  [32, 75.7],
  [64, 112.1],
  [128, 189.1],
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: "boolean", default: false },
    once: { type: "boolean", default: false },
    n: { type: "string" },
    chart: { type: "string" },
    qemu: { type: "string" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log("usage: pnpm -s bench [case…] [--n N] [--json] [--once] [--chart FILE.svg]");
  console.log("  --once   one cold run per case and size (wall and CPU time), not mitata's samples");
  console.log("  --chart  with the commit case: an SVG of µs per commit against N, memtopo and QEMU 7.2");
  console.log("  --qemu   QEMU's figures from this run of perf-anchors' commit.py (its stdout), not the recorded ones");
  process.exit(0);
}
quietBuild(root, ["./packages/*"]);

const files = fs
  .readdirSync(path.join(root, "packages"))
  .flatMap((p) => {
    const dir = path.join(root, "packages", p, "bench");
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith(".bench.mjs"))
          .map((f) => path.join(dir, f))
      : [];
  })
  .sort();
const cases = [];
for (const file of files) cases.push(...(await import(pathToFileURL(file).href)).cases);
const known = new Set(cases.map((c) => c.name));
for (const name of positionals) {
  if (!known.has(name)) {
    console.error(`unknown benchmark "${name}"; known: ${[...known].join(", ")}`);
    process.exit(2);
  }
}

const qemuCommitUs = values.qemu === undefined ? new Map(QEMU_COMMIT_US) : readQemuCommit(values.qemu);

const results = [];
for (const c of cases) {
  if (positionals.length > 0 && !positionals.includes(c.name)) continue;
  const params = values.n === undefined ? c.params : [Number(values.n)];
  for (const n of params) {
    const prepared = await c.setup(n);
    const fn = typeof prepared === "function" ? prepared : prepared.fn;
    if (values.once) {
      // One cold run, wall and CPU time: for cases of seconds on a shared machine, where the CPU time (all of the
      // process's threads, the GC's included) says what the wall time cannot.
      const cpu = process.cpuUsage();
      const start = performance.now();
      await fn();
      const ns = (performance.now() - start) * 1e6;
      const used = process.cpuUsage(cpu);
      const extra = typeof prepared === "function" ? {} : (prepared.extra ?? {});
      const cpu_ms = Math.round((used.user + used.system) / 1000);
      results.push({ bench: c.name, n, ...c.report(ns / 1000, n, extra), ...extra, cpu_ms });
      continue;
    }
    // Warm the whole path up first (JIT tiers, inline caches), so the first case run is not the slowest; an async
    // case (a CLI command) is awaited, so that its runs do not overlap. A case of seconds per run names its
    // `samples`: mitata's default of 12 would take minutes.
    for (const until = performance.now() + 300; performance.now() < until; ) await fn();
    const samples = c.samples === undefined ? {} : { min_samples: c.samples, max_samples: c.samples };
    const stats = await measure(fn, { min_cpu_time: 300e6, ...samples });
    const extra = typeof prepared === "function" ? {} : (prepared.extra ?? {});
    const row = {
      bench: c.name,
      n,
      ...c.report(stats.avg / 1000, n, extra),
      ...extra,
      p50_us: round(stats.p50 / 1000),
    };
    const qemu = c.name === "commit" ? qemuCommitUs.get(n) : undefined;
    if (qemu !== undefined)
      Object.assign(row, { qemu_us: round(qemu), qemu_over_memtopo: round(qemu / row.us_per_commit) });
    results.push(row);
  }
}

if (values.chart !== undefined) {
  const ours = results.filter((r) => r.bench === "commit").map((r) => [r.n, r.p50_us]);
  if (ours.length === 0) {
    console.error("--chart needs the commit case");
    process.exit(2);
  }
  fs.writeFileSync(
    values.chart,
    lineChart({
      title: "One BAR toggle (one commit) on a q35-like map with N devices",
      xLabel: "N devices with a 1 MiB BAR",
      yLabel: "µs per commit (median)",
      series: [
        { name: "QEMU 7.2", color: "#c0392b", points: [...qemuCommitUs] },
        { name: "memtopo", color: "#2471a3", points: ours },
      ],
    }),
  );
}

if (values.json) {
  for (const r of results) console.log(JSON.stringify(r));
} else {
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"} ×${os.cpus().length}`);
  const keys = [...new Set(results.flatMap((r) => Object.keys(r)))];
  const rows = [keys, ...results.map((r) => keys.map((k) => String(r[k] ?? "")))];
  const widths = keys.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
}

/**
 * Median µs per commit by N from perf-anchors' `commit.py` output (KVM or TCG, bus mastering off,
 * every repeat of every run in the file), so both sides of the chart come from one session.
 */
function readQemuCommit(file) {
  const byN = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const r = JSON.parse(line);
    // KVM where the machine has it; TCG otherwise (with -S no guest code runs: the commit's cost is the memory API's).
    if ((r.accel !== "kvm" && r.accel !== "tcg") || r.bm !== "off") continue;
    byN.set(r.n, [...(byN.get(r.n) ?? []), ...r.commit_us]);
  }
  if (byN.size === 0) {
    console.error(`--qemu ${file}: no KVM or TCG, bus-mastering-off lines of commit.py output`);
    process.exit(2);
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  return new Map([...byN].sort((a, b) => a[0] - b[0]).map(([n, xs]) => [n, median(xs)]));
}

function round(x) {
  return Math.round(x * 1000) / 1000;
}
