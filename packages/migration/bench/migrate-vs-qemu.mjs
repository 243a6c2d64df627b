#!/usr/bin/env node
// A whole migration of a stopped guest of the same RAM size, memtopo's pre-copy against QEMU 7.2's `migrate`,
// paired: the two alternate in one process, round after round, and the ratios are taken within the run.
//
// Both sides send their stream through a pipe into `cat > /dev/null` (QEMU: `migrate "exec:cat > /dev/null"`;
// memtopo: the OutgoingMigration's chunks written to a FIFO that `cat` drains), with no destination. The guest is
// stopped (QEMU: -S, never started; memtopo: no vCPU), so both converge after their first pass over RAM: what is
// timed is one full pass (read every page, tell zero pages from data, frame and write) plus the final sync and the
// completion. RAM is either "dirty" (every 4 KiB page holds data) or "zero" (never written).
//   QEMU: -M pc -accel tcg -nodefaults -display none -S, RAM from a memory-backend-file (a file in /dev/shm filled
//         with the pattern, share=on) for "dirty", ordinary anonymous RAM for "zero"; max-bandwidth raised from
//         its 32 MiB/s default so that the link does not throttle it; the time is QEMU's own `total-time`
//         (query-migrate, ms) and the pages are its `normal` + `duplicate` (zero) pages.
//   memtopo: the mock kernel (`@memtopo/kvm-mock`), one RAM region of the same size at 0 in a MemorySystem with
//         the KVM listener attached; timed from `begin()` to `complete()` returning, in this process.
// QEMU and memtopo start untimed; only the migration is timed.
//
//   node packages/migration/bench/migrate-vs-qemu.mjs [--rounds N] [--sizes 128,1024] [--kinds dirty,zero]
//        [--backend mock|native] [--json]
// Needs qemu-system-x86_64 and the built packages (`pnpm build`). `--backend native` puts memtopo's VM on /dev/kvm
// (the nested-KVM harness here: indicative only, everything runs under TCG there, QEMU too).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { NativeKvm } from "@memtopo/kvm-native";
import { OutgoingMigration, ramBlocksOf, systemDirtyPageSource } from "@memtopo/migration";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

const PAGE = 4096;

function parseArgs(argv) {
  const o = { rounds: 5, sizes: [128, 1024], kinds: ["dirty", "zero"], backend: "mock", json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "--sizes") o.sizes = String(argv[++i]).split(",").map(Number);
    else if (a === "--kinds") o.kinds = String(argv[++i]).split(",");
    else if (a === "--backend") o.backend = String(argv[++i]);
    else if (a === "--json") o.json = true;
    else fail(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 1) fail("--rounds must be a whole number above 0");
  if (!o.sizes.every((s) => Number.isInteger(s) && s >= 2 && s <= 4096)) fail("--sizes are MiB from 2 to 4096");
  if (!o.kinds.every((k) => k === "dirty" || k === "zero")) fail("--kinds are dirty and/or zero");
  if (o.backend !== "mock" && o.backend !== "native") fail("--backend is mock or native");
  return o;
}

function fail(message) {
  process.stderr.write(`migrate-vs-qemu: ${message}\n`);
  process.exit(2);
}

/** The pattern both sides hold in "dirty" RAM: a page-numbered word in every page, so no page is zero. */
function fillPage(bytes, at) {
  bytes[at + 100] = ((at / PAGE) & 0xff) | 1;
  bytes[at + 2000] = 0x5a;
}

function fillFile(file, mib) {
  const chunk = new Uint8Array(1 << 20);
  for (let at = 0; at < chunk.length; at += PAGE) fillPage(chunk, at);
  const fd = fs.openSync(file, "w");
  try {
    for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}

/** A QMP session over a QEMU's stdin/stdout: commands answered in order, events kept apart. */
class Qmp {
  #child;
  #buffer = "";
  #waiting = [];
  #events = [];
  #eventWaiters = [];
  constructor(child) {
    this.#child = child;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      this.#buffer += d;
      for (let nl = this.#buffer.indexOf("\n"); nl >= 0; nl = this.#buffer.indexOf("\n")) {
        const line = this.#buffer.slice(0, nl).trim();
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line !== "") this.#message(JSON.parse(line));
      }
    });
  }
  #message(m) {
    if ("QMP" in m) return;
    if ("event" in m) {
      this.#events.push(m);
      for (const w of this.#eventWaiters.splice(0)) w();
      return;
    }
    const w = this.#waiting.shift();
    if ("error" in m) w?.reject(new Error(`QMP: ${m.error.class}: ${m.error.desc}`));
    else w?.resolve(m.return);
  }
  execute(command, args) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#child.stdin.write(
        `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
      );
    });
  }
  async event(match) {
    for (;;) {
      const i = this.#events.findIndex(match);
      if (i >= 0) return this.#events.splice(i, 1)[0];
      await new Promise((r) => this.#eventWaiters.push(r));
    }
  }
}

async function qemuRound(mib, kind, work) {
  const memFile = path.join(work, `qemu-ram-${mib}`);
  // prealloc=on: every page is mapped before the clock starts, as memtopo's are (see memtopoVm).
  const backend =
    kind === "dirty"
      ? `memory-backend-file,id=ram0,size=${mib}M,mem-path=${memFile},share=on,prealloc=on`
      : `memory-backend-ram,id=ram0,size=${mib}M,prealloc=on`;
  const memory = ["-object", backend, "-M", "pc,memory-backend=ram0"];
  // QEMU's dirty-log syncs, timed by its own trace points (µs timestamps with -msg timestamp=on).
  const trace = path.join(work, "qemu-trace.log");
  fs.rmSync(trace, { force: true });
  const tracing = ["-msg", "timestamp=on", "-trace", "migration_bitmap_sync_*", "-D", trace];
  const child = spawn(
    "qemu-system-x86_64",
    [...memory, "-m", `${mib}M`, "-accel", "tcg", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio", ...tracing],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  try {
    const qmp = new Qmp(child);
    await qmp.execute("qmp_capabilities");
    await qmp.execute("migrate-set-capabilities", { capabilities: [{ capability: "events", state: true }] });
    await qmp.execute("migrate-set-parameters", { "max-bandwidth": 64 * 1024 ** 3 });
    const started = process.hrtime.bigint();
    await qmp.execute("migrate", { uri: "exec:cat > /dev/null" });
    await qmp.event((e) => e.event === "MIGRATION" && (e.data.status === "completed" || e.data.status === "failed"));
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const info = await qmp.execute("query-migrate");
    if (info.status !== "completed") throw new Error(`QEMU's migration ended ${info.status}`);
    await qmp.execute("quit").catch(() => {});
    await exited;
    const syncs = qemuSyncs(trace);
    return {
      ms: info["total-time"],
      wallMs,
      pages: info.ram.normal + info.ram.duplicate,
      dataPages: info.ram.normal,
      zeroPages: info.ram.duplicate,
      bytes: info.ram.transferred,
      syncs: info.ram["dirty-sync-count"],
      setupMs: info["setup-time"],
      mbps: info.ram.mbps,
      // The completion's sync (the guest stopped, no page dirty), as memtopo's lastStage one.
      syncMs: syncs.at(-1),
    };
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${stderr}`);
  } finally {
    await exited;
  }
}

/** The durations (ms) of each migration_bitmap_sync_start..end pair in a QEMU trace log. */
function qemuSyncs(trace) {
  const out = [];
  let start = null;
  for (const line of fs.readFileSync(trace, "utf8").split("\n")) {
    const m = /^\d+@(\d+)\.(\d{6}):migration_bitmap_sync_(start|end)/.exec(line);
    if (m === null) continue;
    const us = Number(m[1]) * 1e6 + Number(m[2]);
    if (m[3] === "start") start = us;
    else if (start !== null) {
      out.push((us - start) / 1000);
      start = null;
    }
  }
  return out;
}

/** memtopo's VM on the mock kernel: one RAM region of `mib` MiB at 0, with the KVM listener attached. */
function memtopoVm(mib, kind, backend) {
  const kvm = backend === "native" ? NativeKvm.open() : new MockKvm();
  const ramAllocator = backend === "native" ? kvm.ramAllocator : kvm.ramAllocator();
  const system = new MemorySystem({ ramAllocator, accel: "kvm" });
  const root = new MemoryRegion(system, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(system, { kind: "ram", name: "pc.ram", size: BigInt(mib) << 20n });
  root.addSubregion(0n, ram);
  const memory = system.createAddressSpace("memory", root);
  attachKvm(system, kvm, { memory });
  // Every page written before the clock starts (zeros for "zero"), as QEMU's prealloc=on does: the host's first
  // touch of fresh memory (a fault per 4 KiB page here) is not the migration's cost.
  const bytes = ram.ramBlock.bytes();
  if (kind === "dirty") for (let at = 0; at < bytes.length; at += PAGE) fillPage(bytes, at);
  else for (let at = 0; at < bytes.length; at += PAGE) bytes[at] = 0;
  return { kvm, system, migratable: { system, ramBlocks: ramBlocksOf([memory]), vcpus: [] } };
}

async function memtopoRound(mib, kind, work, backend) {
  const vm = memtopoVm(mib, kind, backend);
  const fifo = path.join(work, "memtopo.fifo");
  fs.rmSync(fifo, { force: true });
  if (spawnSync("mkfifo", [fifo]).status !== 0) throw new Error("mkfifo failed");
  const cat = spawn("sh", ["-c", `cat "${fifo}" > /dev/null`], { stdio: "ignore" });
  const catDone = new Promise((resolve) => cat.on("exit", resolve));
  // Opening the FIFO for writing waits for cat to open it for reading; the writes below then block as a pipe does.
  const fd = fs.openSync(fifo, "w");
  const started = process.hrtime.bigint();
  let ms;
  let outgoing;
  const syncs = [];
  try {
    const source = systemDirtyPageSource(vm.system);
    const timedSource = {
      start: () => source.start(),
      stop: () => source.stop(),
      take(blocks, lastStage) {
        const t = process.hrtime.bigint();
        const taken = source.take(blocks, lastStage);
        syncs.push(Number(process.hrtime.bigint() - t) / 1e6);
        return taken;
      },
    };
    outgoing = new OutgoingMigration(
      vm.migratable,
      timedSource,
      (chunk) => {
        for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd, chunk, done);
      },
      { downtimePages: 0 },
    );
    for (let round = outgoing.begin(); round !== null; round = outgoing.iterate());
    outgoing.complete();
    ms = Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    fs.closeSync(fd);
    await catDone;
    vm.kvm.close();
  }
  // As QEMU's wall time: until the reader has drained the stream and exited.
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const rounds = outgoing.rounds;
  const dataPages = rounds.reduce((n, r) => n + r.sent, 0);
  return {
    ms,
    wallMs,
    pages: mib * 256,
    dataPages,
    zeroPages: mib * 256 - dataPages,
    bytes: outgoing.bytes,
    syncs: rounds.length,
    // The stop-and-copy sync (lastStage): every page of the block looked at, none dirty (the guest is stopped).
    syncMs: syncs.at(-1),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const work = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "migrate-vs-qemu-"));
  const results = [];
  try {
    // One untimed migration each, so that neither side's first (cold, unoptimised) run is counted.
    fillFile(path.join(work, "qemu-ram-16"), 16);
    await qemuRound(16, "dirty", work);
    await memtopoRound(16, "dirty", work, o.backend);
    for (const mib of o.sizes) {
      if (o.kinds.includes("dirty")) fillFile(path.join(work, `qemu-ram-${mib}`), mib);
      for (const kind of o.kinds) {
        const q = [];
        const m = [];
        for (let r = 0; r < o.rounds; r++) {
          // Alternate which side goes first, so that a drift of the machine weighs on both alike.
          if (r % 2 === 0) {
            q.push(await qemuRound(mib, kind, work));
            m.push(await memtopoRound(mib, kind, work, o.backend));
          } else {
            m.push(await memtopoRound(mib, kind, work, o.backend));
            q.push(await qemuRound(mib, kind, work));
          }
          globalThis.gc?.();
        }
        // QEMU's total-time reads 0 on some runs (it seems not to be set for a guest that never ran): those are left out.
        const ratios = m.flatMap((x, i) => (q[i].ms > 0 ? [x.ms / q[i].ms] : []));
        const wallRatios = m.map((x, i) => x.wallMs / q[i].wallMs);
        const row = {
          mib,
          kind,
          rounds: o.rounds,
          // The last round's counts (every round sends the same); the times are medians, set below.
          qemu: { ...q.at(-1), ms_all: q.map((x) => x.ms) },
          memtopo: { ...m.at(-1), ms_all: m.map((x) => Math.round(x.ms * 10) / 10) },
          ratio_median: ratios.length > 0 ? median(ratios) : null,
          sync_ratio_median: median(m.map((x, i) => x.syncMs / q[i].syncMs)),
          wall_ratio_median: median(wallRatios),
        };
        row.qemu.wallMs = Math.round(median(q.map((x) => x.wallMs)) * 10) / 10;
        row.memtopo.wallMs = Math.round(median(m.map((x) => x.wallMs)) * 10) / 10;
        row.qemu.ms = median(q.filter((x) => x.ms > 0).map((x) => x.ms));
        row.qemu.syncMs = median(q.map((x) => x.syncMs));
        row.memtopo.syncMs = Math.round(median(m.map((x) => x.syncMs)) * 1000) / 1000;
        row.memtopo.ms = Math.round(median(m.map((x) => x.ms)) * 10) / 10;
        row.qemu.pages_per_s = Math.round(row.qemu.pages / (row.qemu.wallMs / 1000));
        row.memtopo.pages_per_s = Math.round(row.memtopo.pages / (row.memtopo.wallMs / 1000));
        results.push(row);
        if (!o.json) {
          const k = (pages, ms) => `${Math.round(pages / ms)} k pages/s`;
          process.stdout.write(
            `${mib} MiB ${kind}, ${o.rounds} rounds, medians (memtopo/QEMU ratios per round):\n` +
              `  migration, wall: QEMU ${row.qemu.wallMs} ms (${k(row.qemu.pages, row.qemu.wallMs)}), memtopo ${row.memtopo.wallMs} ms ` +
              `(${k(row.memtopo.pages, row.memtopo.wallMs)}), ratio ${row.wall_ratio_median.toFixed(2)}\n` +
              `  migration, own clock: QEMU total-time ${row.qemu.ms} ms, memtopo ${row.memtopo.ms} ms, ratio ${row.ratio_median?.toFixed(2) ?? "-"}\n` +
              `  last dirty-log sync: QEMU ${row.qemu.syncMs} ms, memtopo ${row.memtopo.syncMs} ms, ratio ${row.sync_ratio_median.toFixed(2)}\n` +
              `  sent: QEMU ${row.qemu.dataPages} data + ${row.qemu.zeroPages} zero pages, ${row.qemu.bytes} bytes; ` +
              `memtopo ${row.memtopo.dataPages} data + ${row.memtopo.zeroPages} zero pages, ${row.memtopo.bytes} bytes\n`,
          );
        }
      }
      fs.rmSync(path.join(work, `qemu-ram-${mib}`), { force: true });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (o.json)
    process.stdout.write(`${JSON.stringify({ backend: o.backend, loadavg: os.loadavg(), results }, null, 2)}\n`);
}

await main();
