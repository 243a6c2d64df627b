#!/usr/bin/env node
// Wall time from start to SeaBIOS's "No bootable device", memtopo's PC board (`memtopo pc`) against QEMU 7.2's
// `-M pc -nodefaults -accel kvm`, same firmware, paired: the two alternate in one process, round after round.
// Each is timed from spawning its process to the moment this script sees the text on the debug console; exits to
// user space are counted in a separate run of each (QEMU's `-trace kvm_run_exit`, memtopo's summary line), so that
// tracing does not weigh on the timed runs. Needs /dev/kvm (run it through scripts/nested-kvm/run.sh where there
// is none) and the built CLI (`pnpm build`).
//
//   node packages/pc/bench/boot-vs-qemu.mjs [--rounds N] [-m SIZE] [--bios FILE] [--json]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = path.join(root, "packages/cli/dist/bin.js");
const UNTIL = "No bootable device";

function parseArgs(argv) {
  const o = { rounds: 5, size: "128M", bios: "/usr/share/seabios/bios.bin", json: false, timeout: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rounds") o.rounds = Number(argv[++i]);
    else if (a === "-m") o.size = argv[++i];
    else if (a === "--bios") o.bios = argv[++i];
    else if (a === "--json") o.json = true;
    else if (a === "--timeout") o.timeout = Number(argv[++i]);
    else {
      process.stderr.write(`boot-vs-qemu: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 1) {
    process.stderr.write("boot-vs-qemu: --rounds must be a whole number above 0\n");
    process.exit(2);
  }
  return o;
}

/** Spawns a process and resolves when `seen()` is true (polled), with the seconds since the spawn; then kills it. */
function timeUntil(command, args, seen, timeoutS, onOutput) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let done = false;
    const finish = (error, seconds) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      child.kill("SIGKILL");
      if (error) reject(error);
      else resolve(seconds);
    };
    child.stdout.on("data", (d) => onOutput?.(String(d)));
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const check = () => {
      if (seen()) finish(null, Number(process.hrtime.bigint() - started) / 1e9);
      else if (Number(process.hrtime.bigint() - started) / 1e9 > timeoutS) {
        finish(new Error(`${command}: "${UNTIL}" not seen within ${timeoutS} s\n${stderr}`));
      }
    };
    const poll = setInterval(check, 1);
    child.on("exit", (code) => {
      check();
      if (!done) finish(new Error(`${command} exited (${code}) before "${UNTIL}"\n${stderr}`));
    });
  });
}

function qemuArgs(o, debugcon, trace) {
  return [
    "-M",
    "pc",
    "-nodefaults",
    "-m",
    o.size,
    "-accel",
    "kvm",
    "-bios",
    o.bios,
    "-display",
    "none",
    "-no-reboot",
    "-monitor",
    "none",
    "-serial",
    "none",
    "-chardev",
    `file,id=dbg,path=${debugcon}`,
    "-device",
    "isa-debugcon,iobase=0x402,chardev=dbg",
    // memtopo's board has no kvmvapic option ROM: QEMU runs without it too.
    "-global",
    "kvm-apic.vapic=off",
    ...(trace ? ["-trace", "kvm_run_exit", "-D", trace] : []),
  ];
}

async function runQemu(o, work, traced) {
  const debugcon = path.join(work, "qemu-debugcon.txt");
  const trace = traced ? path.join(work, "qemu-trace.log") : null;
  fs.rmSync(debugcon, { force: true });
  const seen = () => fs.existsSync(debugcon) && fs.readFileSync(debugcon, "latin1").includes(UNTIL);
  const seconds = await timeUntil("qemu-system-x86_64", qemuArgs(o, debugcon, trace), seen, o.timeout);
  if (!traced) return { seconds };
  await new Promise((r) => setTimeout(r, 200));
  const exits = fs
    .readFileSync(trace, "utf8")
    .split("\n")
    .filter((l) => l.includes("kvm_run_exit ")).length;
  return { seconds, exits };
}

async function runMemtopo(o) {
  let out = "";
  let summary = "";
  const args = [cli, "pc", "--bios", o.bios, "-m", o.size, "--debugcon", "-", "--timeout", String(o.timeout)];
  const seconds = await new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let at = null;
    child.stdout.on("data", (d) => {
      out += d;
      if (at === null && out.includes(UNTIL)) at = Number(process.hrtime.bigint() - started) / 1e9;
    });
    child.stderr.on("data", (d) => {
      summary += d;
    });
    child.on("exit", (code) => {
      if (code === 0 && at !== null) resolve(at);
      else reject(new Error(`memtopo pc exited ${code}\n${summary}`));
    });
  });
  // The CLI's own figure: from reading the firmware to the text, without Node's start-up and module loading.
  const line = /after ([0-9.]+) s, ([0-9]+) exits to user space/.exec(summary);
  return { seconds, inProcess: line ? Number(line[1]) : null, exits: line ? Number(line[2]) : null };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const work = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "boot-vs-qemu-"));
  try {
    const qemu = [];
    const memtopo = [];
    const memtopoInProcess = [];
    for (let round = 0; round < o.rounds; round++) {
      // Alternate which goes first, so a drift in the machine's speed weighs on both alike.
      if (round % 2 === 0) {
        qemu.push((await runQemu(o, work, false)).seconds);
        const m = await runMemtopo(o);
        memtopo.push(m.seconds);
        memtopoInProcess.push(m.inProcess);
      } else {
        const m = await runMemtopo(o);
        memtopo.push(m.seconds);
        memtopoInProcess.push(m.inProcess);
        qemu.push((await runQemu(o, work, false)).seconds);
      }
    }
    const qemuExits = (await runQemu(o, work, true)).exits;
    const memtopoExits = (await runMemtopo(o)).exits;
    const result = {
      size: o.size,
      bios: o.bios,
      rounds: o.rounds,
      qemuSeconds: qemu,
      memtopoSeconds: memtopo,
      qemuMedian: median(qemu),
      memtopoMedian: median(memtopo),
      memtopoInProcessSeconds: memtopoInProcess,
      qemuExits,
      memtopoExits,
      host: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, Node ${process.version}`,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const f = (xs) => xs.map((x) => (x === null ? "?" : x.toFixed(2))).join(" ");
      process.stdout.write(
        `-m ${o.size}, ${o.rounds} rounds, seconds from spawn to "${UNTIL}"\n` +
          `  QEMU 7.2  median ${result.qemuMedian.toFixed(2)}  [${f(qemu)}]  exits to user space ${qemuExits}\n` +
          `  memtopo   median ${result.memtopoMedian.toFixed(2)}  [${f(memtopo)}]  exits to user space ${memtopoExits}\n` +
          `  memtopo, its own figure (no Node start-up)  [${f(memtopoInProcess)}]\n`,
      );
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`boot-vs-qemu: ${error.message}\n`);
  process.exit(1);
});
