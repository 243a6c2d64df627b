#!/usr/bin/env node
// Exit throughput: PIO and MMIO exits per second with TypeScript dispatch
// (runVcpu + GuestBus) against a pure C loop in the same addon (the limit).
// Needs /dev/kvm and a build (`pnpm build`); prints a markdown table.
//   node bench/exits.mjs [exitsPerRun=100000] [runs=5]
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { enterRealMode, NativeKvm, probe, runVcpu } from "../dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const exitsPerRun = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const CODE_AT = 0x1000;

const available = probe();
if (!available.ok) {
  console.log(`KVM unavailable (${available.reason}): ${available.detail}`);
  process.exit(0);
}

function assemble(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-bench-"));
  execFileSync("as", ["--32", "-o", path.join(dir, "g.o"), path.join(here, "../test/guests", `${name}.S`)]);
  execFileSync("objcopy", ["-O", "binary", "-j", ".text", path.join(dir, "g.o"), path.join(dir, "g.bin")]);
  const bytes = fs.readFileSync(path.join(dir, "g.bin"));
  fs.rmSync(dir, { recursive: true });
  return bytes;
}

const vm = NativeKvm.open();
const ram = vm.ramAllocator.allocate("low", 0x4000n);
ram.bytes().set(assemble("loop"), CODE_AT);
vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x4000n, userspaceAddr: ram.hostAddr });
const vcpu = vm.createVcpu(0);
const counts = new DataView(ram.bytes().buffer);

// The cheapest devices TypeScript can have: the cost measured is the dispatch path.
const bus = {
  read(_addr, data) {
    data.fill(0);
    return 0;
  },
  write() {
    return 0;
  },
};

function prepare(pio, mmio) {
  counts.setUint32(0x500, pio, true);
  counts.setUint32(0x504, mmio, true);
  enterRealMode(vcpu, CODE_AT);
}

function measure(kind, design) {
  const rates = [];
  for (let i = 0; i < runs; i++) {
    prepare(kind === "pio" ? exitsPerRun : 0, kind === "mmio" ? exitsPerRun : 0);
    const start = process.hrtime.bigint();
    let handled;
    if (design === "c") handled = vcpu.benchExitLoop(exitsPerRun);
    else handled = runVcpu(vcpu, { memory: bus, io: bus }, { maxExits: exitsPerRun }).exits;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (handled !== exitsPerRun) throw new Error(`${kind}/${design}: ${handled} exits, expected ${exitsPerRun}`);
    rates.push(handled / seconds);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const rows = [];
for (const kind of ["pio", "mmio"]) {
  const c = measure(kind, "c");
  const ts = measure(kind, "ts");
  rows.push({ kind, c, ts, ratio: ts / c });
}
vm.close();

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`machine: ${cpu}, ${os.cpus().length} cores, Linux ${os.release()}, Node ${process.version}`);
console.log(`command: node bench/exits.mjs ${exitsPerRun} ${runs} (median of ${runs} runs of ${exitsPerRun} exits)\n`);
console.log("| exit | C loop (exits/s) | TypeScript runVcpu (exits/s) | TS / C |");
console.log("|---|---|---|---|");
for (const r of rows) {
  const f = (x) => Math.round(x).toLocaleString("en-US");
  console.log(
    `| ${r.kind.toUpperCase()} | ${f(r.c)} (${(1e6 / r.c).toFixed(1)} µs) | ${f(r.ts)} (${(1e6 / r.ts).toFixed(1)} µs) | ${r.ratio.toFixed(3)} |`,
  );
}
