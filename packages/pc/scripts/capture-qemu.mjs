#!/usr/bin/env node
// Captures QEMU 7.2's view of `-M pc -nodefaults -accel kvm` running SeaBIOS, as fixtures for @memtopo/pc:
// the memory map at machine creation (held with -S) and after the firmware printed its last line, every
// KVM_SET_USER_MEMORY_REGION call in order, the debug console, and the exits to user space.
// Needs /dev/kvm: run it through scripts/nested-kvm/run.sh where there is none (capture-qemu.sh does).
//
//   node capture-qemu.mjs --out DIR -m SIZE [--bios FILE] [--until TEXT] [--timeout S] [--no-debugcon] [-- QEMU ARGS...]
//
// Driven over QMP (human-monitor-command), as /work-independent conformance captures are: no terminal echo
// to strip. The dumps after the firmware are taken with the VM stopped, so the three views agree.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

function usage(message) {
  process.stderr.write(`capture-qemu: ${message}\n`);
  process.stderr.write(
    "usage: capture-qemu.mjs --out DIR -m SIZE [--bios FILE] [--until TEXT] [--timeout S] [--no-debugcon] [-- QEMU ARGS...]\n",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    bios: "/usr/share/seabios/bios.bin",
    until: "No bootable device",
    timeout: 300,
    debugcon: true,
    extra: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--out") o.out = value();
    else if (a === "-m") o.size = value();
    else if (a === "--bios") o.bios = value();
    else if (a === "--until") o.until = value();
    else if (a === "--timeout") o.timeout = Number(value());
    else if (a === "--no-debugcon") o.debugcon = false;
    else if (a === "--") {
      o.extra = argv.slice(i + 1);
      break;
    } else usage(`unknown argument ${a}`);
  }
  if (!o.out || !o.size) usage("--out and -m are required");
  if (!(o.timeout > 0)) usage("--timeout must be a positive number of seconds");
  return o;
}

/** A QMP client: one command at a time, events ignored. */
async function qmpConnect(sock, deadline) {
  let socket;
  for (;;) {
    try {
      socket = await new Promise((resolve, reject) => {
        const s = net.createConnection(sock, () => resolve(s));
        s.once("error", reject);
      });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`QMP socket ${sock}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let buffer = "";
  const waiting = [];
  const replies = [];
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line);
      if (msg.event || msg.QMP) continue;
      const w = waiting.shift();
      if (w) w(msg);
      else replies.push(msg);
    }
  });
  const next = () => (replies.length ? Promise.resolve(replies.shift()) : new Promise((r) => waiting.push(r)));
  const execute = async (command, args) => {
    socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const reply = await next();
    if (reply.error) throw new Error(`QMP ${command}: ${reply.error.desc}`);
    return reply.return;
  };
  const hmp = async (line) => (await execute("human-monitor-command", { "command-line": line })).replace(/\r\n/g, "\n");
  return { execute, hmp, close: () => socket.end() };
}

const SET_USER_MEMORY =
  /kvm_set_user_memory Slot#(\d+) flags=0x([0-9a-f]+) gpa=0x([0-9a-f]+) size=0x([0-9a-f]+) ua=0x[0-9a-f]+ ret=(-?\d+)/;

/** The trace log's memslot calls (in order) and where the first exit from KVM_RUN falls among them. */
function readTrace(file) {
  const calls = [];
  let callsBeforeFirstRun = -1;
  let exits = 0;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = SET_USER_MEMORY.exec(line);
    if (m) {
      calls.push({
        slot: Number(m[1]),
        flags: Number.parseInt(m[2], 16),
        gpa: `0x${m[3]}`,
        size: `0x${m[4]}`,
        ret: Number(m[5]),
      });
    } else if (line.includes("kvm_run_exit ")) {
      if (callsBeforeFirstRun < 0) callsBeforeFirstRun = calls.length;
      exits++;
    }
  }
  return { calls, callsBeforeFirstRun, exits };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(o.out, { recursive: true });
  // The QMP socket cannot live on the nested guest's 9p mount of this filesystem: keep it (and the trace
  // log) in a local tmpfs where there is one.
  const local = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const work = fs.mkdtempSync(path.join(local, "capture-qemu-"));
  const sock = path.join(work, "qmp.sock");
  const trace = path.join(work, "trace.log");
  const debugcon = path.join(o.out, "debugcon.txt");
  fs.rmSync(debugcon, { force: true });
  const args = [
    "-S",
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
    "-qmp",
    `unix:${sock},server=on,wait=off`,
    ...(o.debugcon
      ? ["-chardev", `file,id=dbg,path=${debugcon}`, "-device", "isa-debugcon,iobase=0x402,chardev=dbg"]
      : []),
    "-trace",
    "kvm_set_user_memory",
    "-trace",
    "kvm_run_exit",
    "-D",
    trace,
    ...o.extra,
  ];
  const commandLine = `qemu-system-x86_64 ${args.map((a) => (/[\s,]/.test(a) && !a.includes("=") ? `'${a}'` : a)).join(" ")}`;
  const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  qemu.stderr.on("data", (d) => {
    stderr += d;
  });
  let quitting = false;
  const exited = new Promise((resolve) =>
    qemu.on("exit", (code, signal) => {
      // QEMU gone before the quit: nothing else would keep this process alive to say why.
      if (!quitting) {
        process.stderr.write(`capture-qemu: QEMU exited early (code ${code}, signal ${signal})\n${stderr}`);
        process.exit(1);
      }
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + o.timeout * 1000;
  const qmp = await qmpConnect(sock, deadline);
  await qmp.execute("qmp_capabilities");
  const version = (await qmp.execute("query-version")).qemu;

  // At creation: held by -S, before the first instruction.
  fs.writeFileSync(path.join(o.out, "mtree-reset.txt"), await qmp.hmp("info mtree"));
  fs.writeFileSync(path.join(o.out, "mtree-reset-f.txt"), await qmp.hmp("info mtree -f"));
  fs.writeFileSync(path.join(o.out, "mtree-reset-D.txt"), await qmp.hmp("info mtree -D"));

  let reached = false;
  let seconds = 0;
  if (o.debugcon) {
    const started = process.hrtime.bigint();
    await qmp.execute("cont");
    while (Date.now() < deadline) {
      const text = fs.existsSync(debugcon) ? fs.readFileSync(debugcon, "latin1") : "";
      if (text.includes(o.until)) {
        reached = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Nothing after this point is the firmware's doing: stop tracing before the dumps and the quit.
    await qmp.hmp("trace-event * off");
    await qmp.execute("stop");
    fs.writeFileSync(path.join(o.out, "mtree-after.txt"), await qmp.hmp("info mtree"));
    fs.writeFileSync(path.join(o.out, "mtree-after-f.txt"), await qmp.hmp("info mtree -f"));
    fs.writeFileSync(path.join(o.out, "mtree-after-D.txt"), await qmp.hmp("info mtree -D"));
  }
  quitting = true;
  await qmp.execute("quit").catch(() => {});
  qmp.close();
  const status = await exited;

  const { calls, callsBeforeFirstRun, exits } = readTrace(trace);
  const failed = calls.filter((c) => c.ret !== 0);
  fs.writeFileSync(
    path.join(o.out, "memslots.jsonl"),
    calls.map(({ slot, flags, gpa, size }) => `${JSON.stringify({ slot, flags, gpa, size })}\n`).join(""),
  );
  const summary = {
    qemu: `${version.major}.${version.minor}.${version.micro}`,
    command: commandLine.replaceAll(work, "$WORK").replaceAll(o.out, "$OUT"),
    size: o.size,
    bios: o.bios,
    until: o.debugcon ? o.until : null,
    reached,
    secondsToUntil: o.debugcon ? Number(seconds.toFixed(3)) : null,
    memslotCalls: calls.length,
    memslotCallsAtCreation: callsBeforeFirstRun < 0 ? calls.length : callsBeforeFirstRun,
    memslotCallsFailed: failed.length,
    exitsToUserSpace: exits,
    qemuExit: status,
  };
  fs.writeFileSync(path.join(o.out, "capture.json"), `${JSON.stringify(summary, null, 2)}\n`);
  fs.rmSync(work, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (stderr.trim()) process.stderr.write(stderr);
  if (o.debugcon && !reached) {
    process.stderr.write(`capture-qemu: "${o.until}" not printed within ${o.timeout} s\n`);
    process.exit(1);
  }
}

main().catch((err) => {
  process.stderr.write(`capture-qemu: ${err.stack ?? err}\n`);
  process.exit(1);
});
