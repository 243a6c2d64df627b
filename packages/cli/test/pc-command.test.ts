import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pcCapturesDir } from "@memtopo/fixtures";
import type { KvmUserspaceMemoryRegion, Regs, Segment, Sregs } from "@memtopo/kvm";
import { afterAll, describe, expect, it } from "vitest";
import { parseRamSize } from "../src/pc/ram-size.js";
import type { PcRunRequest, PcRunResult } from "../src/pc/runner.js";
import { runPc } from "./pc-harness.js";
import { runCli } from "./run-cli.js";

// memtopo pc's own contract (docs/cli.md), on a scripted board: argument parsing, --trace-memslots,
// --debugcon, --until, --events and the exit codes. The real board's runs are in packages/pc's tests.

const fixtures = pcCapturesDir;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-pc-cli-"));
const bios = path.join(tmp, "bios.bin");
fs.writeFileSync(
  bios,
  Uint8Array.from({ length: 64 }, (_, i) => i),
);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const BANNER = "SeaBIOS (version test)\nRunning on QEMU (i440fx)\nBooting from Floppy...\nNo bootable device.\n";

/** QEMU's memslot calls at 128M, as the board would make them. */
const qemuCalls: KvmUserspaceMemoryRegion[] = fs
  .readFileSync(path.join(fixtures, "m128M", "memslots.jsonl"), "utf8")
  .trimEnd()
  .split("\n")
  .map((line) => JSON.parse(line))
  .map((c) => ({
    slot: c.slot,
    flags: c.flags,
    guestPhysAddr: BigInt(c.gpa),
    memorySize: BigInt(c.size),
    userspaceAddr: 0x7f0000000000n,
  }));

const segment = (selector: number, base: bigint): Segment => ({
  base,
  limit: 0xffff,
  selector,
  type: 3,
  present: 1,
  dpl: 0,
  db: 0,
  s: 1,
  l: 0,
  g: 0,
  avl: 0,
  unusable: 0,
});

const registers = (): { regs: Regs; sregs: Sregs } => ({
  regs: {
    rax: 0x12n,
    rbx: 0n,
    rcx: 0n,
    rdx: 0x663n,
    rsi: 0n,
    rdi: 0n,
    rsp: 0x6ff0n,
    rbp: 0n,
    r8: 0n,
    r9: 0n,
    r10: 0n,
    r11: 0n,
    r12: 0n,
    r13: 0n,
    r14: 0n,
    r15: 0n,
    rip: 0xfff0n,
    rflags: 0x2n,
  },
  sregs: {
    cs: { ...segment(0xf000, 0xffff0000n), type: 11 },
    ds: segment(0, 0n),
    es: segment(0, 0n),
    fs: segment(0, 0n),
    gs: segment(0, 0n),
    ss: segment(0, 0n),
    tr: { ...segment(0, 0n), type: 11, s: 0 },
    ldt: { ...segment(0, 0n), type: 2, s: 0 },
    gdt: { base: 0n, limit: 0xffff },
    idt: { base: 0n, limit: 0xffff },
    cr0: 0x60000010n,
    cr2: 0n,
    cr3: 0n,
    cr4: 0n,
    cr8: 0n,
    efer: 0n,
    apicBase: 0xfee00900n,
    interruptBitmap: new Uint8Array(32),
  },
});

/** A board that makes QEMU's memslot calls, prints `text` a byte per exit, and stops when told or at the end. */
function scriptedBoard(text: string, end: PcRunResult = { stop: "timeout", detail: "no more output", exits: 0 }) {
  const seen: PcRunRequest[] = [];
  const runner = async (request: PcRunRequest): Promise<PcRunResult> => {
    seen.push(request);
    for (const call of qemuCalls) request.onMemslot?.(call);
    request.onCommit?.([
      { event: "begin" },
      {
        event: "region_add",
        as: "memory",
        asOrdinal: 0,
        start: "0xf0000",
        size: "0x10000",
        region: "pc.ram",
        offset: "0xf0000",
        readonly: true,
      },
      { event: "commit" },
    ]);
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i++) {
      if (request.onDebugcon(bytes.subarray(i, i + 1))) return { stop: "until", detail: "", exits: i + 1 };
    }
    return end;
  };
  return { runner, seen };
}

describe("memtopo pc: arguments", () => {
  it("-m reads sizes as QEMU does: a unit of B/K/M/G/T, MiB without one, fractions, rounded up to 8 KiB", () => {
    expect(parseRamSize("128M")).toBe(0x8000000n);
    expect(parseRamSize("128")).toBe(0x8000000n);
    expect(parseRamSize("3G")).toBe(0xc0000000n);
    expect(parseRamSize("6g")).toBe(0x180000000n);
    expect(parseRamSize("1.5G")).toBe(0x60000000n);
    expect(parseRamSize("4097K")).toBe(4104n * 1024n);
    expect(parseRamSize("1T")).toBe(1n << 40n);
  });

  it.each([
    ["-m", "abc", /-m must be a size/],
    ["-m", "0", /more than 0/],
    ["-m", "2T", /at most 1T/],
    ["-m", "-5M", /Unknown option `-5`/],
    ["--timeout", "0", /--timeout must be/],
    ["--timeout", "soon", /--timeout must be/],
    ["--until", "", /--until needs the text/],
    ["--trace-memslots", "", /--trace-memslots needs a file name/],
    ["--cpu", "pentium", /--cpu must be one of qemu64, host, got "pentium"/],
    // cac reads an empty value as 0.
    ["--cpu", "", /--cpu must be one of qemu64, host, got "0"/],
    ["--vapic", "", /--vapic takes the kvmvapic ROM's file name or nothing/],
  ])("%s %j is a usage error (exit 2) before anything runs", async (option, value, message) => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, option, value], runner);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(seen).toHaveLength(0);
  });

  it("a firmware that cannot be read is an input error (exit 1) naming the file and errno", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", path.join(tmp, "missing.bin")], runner);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error \[ENOENT\]: cannot read the firmware ".*missing\.bin"/);
    expect(seen).toHaveLength(0);
  });

  it("hands the board the firmware's bytes, the RAM size and the timeout", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "-m", "3G", "--timeout", "2.5"], runner);
    expect(r.status).toBe(0);
    expect(seen[0]?.bios).toEqual(new Uint8Array(fs.readFileSync(bios)));
    expect(seen[0]?.ramSize).toBe(3n << 30n);
    expect(seen[0]?.timeoutMs).toBe(2500);
  });

  it('defaults: 128M, 60 s, until "No bootable device", qemu64, no kvmvapic', async () => {
    const { runner, seen } = scriptedBoard("No bootable devic");
    const r = await runPc(["--bios", bios], runner);
    expect(seen[0]?.ramSize).toBe(128n << 20n);
    expect(seen[0]?.timeoutMs).toBe(60_000);
    expect(seen[0]?.cpu).toBe("qemu64");
    expect(seen[0]?.vapicRom).toBeUndefined();
    // One character short of the default text: the run is not a success.
    expect(r.status).toBe(1);
  });
});

// Rule: --cpu is QEMU's -cpu for the models the board has; --vapic adds QEMU's kvmvapic device with
// its option ROM, Debian's /usr/share/qemu/kvmvapic.bin unless a file is named.
describe("memtopo pc: --cpu and --vapic", () => {
  const rom = path.join(tmp, "kvmvapic.bin");
  fs.writeFileSync(
    rom,
    Uint8Array.from({ length: 512 }, (_, i) => i & 0xff),
  );

  it("--cpu host and --vapic FILE hand the board the model and the ROM's bytes", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--cpu", "host", "--vapic", rom], runner);
    expect(r.status, r.stderr).toBe(0);
    expect(seen[0]?.cpu).toBe("host");
    expect(seen[0]?.vapicRom).toEqual(new Uint8Array(fs.readFileSync(rom)));
  });

  it("--cpu qemu64 is the default model named", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    expect((await runPc(["--bios", bios, "--cpu", "qemu64"], runner)).status).toBe(0);
    expect(seen[0]?.cpu).toBe("qemu64");
  });

  it("--vapic alone reads Debian's kvmvapic.bin (an input error naming it where it is not installed)", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--vapic"], runner);
    if (fs.existsSync("/usr/share/qemu/kvmvapic.bin")) {
      expect(r.status, r.stderr).toBe(0);
      expect(seen[0]?.vapicRom).toEqual(new Uint8Array(fs.readFileSync("/usr/share/qemu/kvmvapic.bin")));
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('cannot read the kvmvapic ROM "/usr/share/qemu/kvmvapic.bin"');
      expect(seen).toHaveLength(0);
    }
  });

  it("a kvmvapic ROM that cannot be read is an input error (exit 1) naming the file and errno", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--vapic", path.join(tmp, "missing-vapic.bin")], runner);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error \[ENOENT\]: cannot read the kvmvapic ROM ".*missing-vapic\.bin"/);
    expect(seen).toHaveLength(0);
  });
});

describe("memtopo pc: outputs", () => {
  it("--trace-memslots writes every KVM_SET_USER_MEMORY_REGION as a JSON line, in order, deletions as size 0x0", async () => {
    const { runner } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--trace-memslots", "slots.jsonl"], runner);
    expect(r.status).toBe(0);
    const expected = fs.readFileSync(path.join(fixtures, "m128M", "memslots.jsonl"), "utf8");
    expect(r.files.get("slots.jsonl")).toBe(expected);
    expect(r.stderr).toMatch(/, 58 memslot calls\n/);
  });

  it("--trace-memslots - writes them to standard output", async () => {
    const { runner } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--trace-memslots", "-"], runner);
    expect(r.stdout.split("\n")[0]).toBe('{"slot":0,"flags":0,"gpa":"0x0","size":"0x8000000"}');
  });

  it("--debugcon - streams the debug console to standard output; --debugcon FILE writes it whole", async () => {
    const one = scriptedBoard(BANNER);
    const streamed = await runPc(["--bios", bios, "--debugcon", "-"], one.runner);
    expect(streamed.stdout).toBe(BANNER.slice(0, BANNER.indexOf("No bootable device") + "No bootable device".length));
    const two = scriptedBoard(BANNER);
    const filed = await runPc(["--bios", bios, "--debugcon", "con.txt"], two.runner);
    expect(filed.stdout).toBe("");
    expect(filed.files.get("con.txt")).toBe(streamed.stdout);
  });

  // A byte per exit goes out a line at a time (one write per line, as stdio buffers a pipe), but the awaited
  // text is written the moment it is complete, before the run returns, and a partial last line is not lost.
  it("--debugcon - writes whole lines, the awaited text at once, and what is left when the run ends", async () => {
    const writes: { text: string; afterStop: boolean }[] = [];
    let stopped = false;
    const runner = async (request: PcRunRequest): Promise<PcRunResult> => {
      for (const b of new TextEncoder().encode("ab\ncd\nNo bootable device")) {
        if (request.onDebugcon(Uint8Array.of(b))) break;
      }
      stopped = true;
      return { stop: "until", detail: "", exits: 0 };
    };
    const ctx = await runPc(["--bios", bios, "--debugcon", "-"], runner, (text) =>
      writes.push({ text, afterStop: stopped }),
    );
    expect(ctx.status).toBe(0);
    expect(writes).toEqual([
      { text: "ab\n", afterStop: false },
      { text: "cd\n", afterStop: false },
      { text: "No bootable device", afterStop: false },
    ]);
    const partial = async (request: PcRunRequest): Promise<PcRunResult> => {
      for (const b of new TextEncoder().encode("x\nhalf")) request.onDebugcon(Uint8Array.of(b));
      return { stop: "timeout", detail: "no more output", exits: 0 };
    };
    const r = await runPc(["--bios", bios, "--debugcon", "-"], partial);
    expect(r.stdout).toBe("x\nhalf");
    expect(r.status).toBe(1);
  });

  it("--until stops the board as soon as the text is complete, even when it arrives a byte at a time", async () => {
    const { runner } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--until", "Running on QEMU (i440fx)"], runner);
    expect(r.status).toBe(0);
    const exits = BANNER.indexOf("Running on QEMU (i440fx)") + "Running on QEMU (i440fx)".length;
    expect(r.stderr).toMatch(
      new RegExp(`^memtopo pc: printed "Running on QEMU \\(i440fx\\)" after [0-9.]+ s, ${exits} exits`),
    );
  });

  it("--events prints each commit's listener events as diff --json does, one object a line", async () => {
    const { runner } = scriptedBoard(BANNER);
    const r = await runPc(["--bios", bios, "--events"], runner);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ event: "begin" });
    expect(Object.keys(lines[1])).toEqual([
      "event",
      "as",
      "asOrdinal",
      "start",
      "size",
      "region",
      "offset",
      "readonly",
    ]);
    expect(lines.at(-1)).toEqual({ event: "commit" });
  });

  it("without --events the board is not asked for them", async () => {
    const { runner, seen } = scriptedBoard(BANNER);
    await runPc(["--bios", bios], runner);
    expect(seen[0]?.onCommit).toBeUndefined();
  });
});

describe("memtopo pc: failures exit 1 with what happened and the guest's registers", () => {
  it.each([
    ["triple-fault", "E_PC_TRIPLE_FAULT"],
    ["timeout", "E_PC_TIMEOUT"],
    ["emulation-failure", "E_PC_EMULATION_FAILURE"],
    ["reset", "E_PC_RESET"],
  ] as const)("a %s is %s", async (stop, code) => {
    const { runner } = scriptedBoard("SeaBIOS\n", {
      stop,
      detail: `the board says ${stop}`,
      exits: 7,
      registers: registers(),
    });
    const r = await runPc(["--bios", bios, "--debugcon", "con.txt"], runner);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`memtopo pc: ${stop} after`);
    expect(r.stderr).toContain(
      `error [${code}]: the guest stopped before printing "No bootable device": the board says ${stop}`,
    );
    expect(r.stderr).toContain("EAX=00000012 EBX=00000000 ECX=00000000 EDX=00000663\n");
    expect(r.stderr).toContain("EIP=0000fff0 EFL=00000002\n");
    expect(r.stderr).toContain("CS =f000 00000000ffff0000 0000ffff 00009b00\n");
    expect(r.stderr).toContain("CR0=60000010 ");
    // What the guest printed before the failure is still written.
    expect(r.files.get("con.txt")).toBe("SeaBIOS\n");
  });
});

describe("memtopo pc: the installed command", () => {
  it("is listed by --help and refuses a bad -m with exit 2 before touching KVM", () => {
    expect(runCli(["--help"]).stdout).toMatch(/\n {2}pc +Run a firmware on the PC board/);
    const r = runCli(["pc", "-m", "12X"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'memtopo: -m must be a size such as 128M, 3G or 1.5G (a unit of B, K, M, G or T), got "12X"\n',
    );
  });
});
