import { readFile } from "node:fs/promises";
import type { KvmUserspaceMemoryRegion } from "@memtopo/kvm";
import { MemtopoError } from "@memtopo/region-tree";
import { type CliCommand, type CommandContext, UsageError } from "../context.js";
import { memslotLine } from "../pc/memslot-trace.js";
import { parseRamSize } from "../pc/ram-size.js";
import { formatRegisters } from "../pc/registers.js";
import type { PcRunner, PcRunResult, PcStopKind } from "../pc/runner.js";
import { UntilMatcher } from "../pc/until.js";

interface PcFlags {
  readonly bios?: unknown;
  readonly m?: unknown;
  readonly debugcon?: unknown;
  readonly traceMemslots?: unknown;
  readonly events?: unknown;
  readonly until?: unknown;
  readonly timeout?: unknown;
  readonly cpu?: unknown;
  readonly vapic?: unknown;
}

export const DEFAULT_BIOS = "/usr/share/seabios/bios.bin";
export const DEFAULT_UNTIL = "No bootable device";
/** QEMU's kvmvapic option ROM as Debian's qemu-system-data installs it. */
export const DEFAULT_VAPIC_ROM = "/usr/share/qemu/kvmvapic.bin";
const CPU_MODELS = ["qemu64", "host"] as const;
const DEFAULT_TIMEOUT_S = 60;

/** The stable error code of each way a run can fail. */
const FAILURE_CODE: Record<Exclude<PcStopKind, "until">, string> = {
  timeout: "E_PC_TIMEOUT",
  reset: "E_PC_RESET",
  shutdown: "E_PC_SHUTDOWN",
  "triple-fault": "E_PC_TRIPLE_FAULT",
  "emulation-failure": "E_PC_EMULATION_FAILURE",
  "internal-error": "E_PC_INTERNAL_ERROR",
  "fail-entry": "E_PC_FAIL_ENTRY",
  "unhandled-exit": "E_PC_UNHANDLED_EXIT",
};

function fileName(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "")
    throw new UsageError(`${option} needs a file name (or - for standard output)`);
  return value;
}

function timeoutSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S;
  const text = String(value);
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0) || seconds > 86_400) {
    throw new UsageError(`--timeout must be a number of seconds above 0 and at most 86400, got "${text}"`);
  }
  return seconds;
}

function untilText(value: unknown): string {
  if (value === undefined) return DEFAULT_UNTIL;
  if (typeof value !== "string" || value === "") throw new UsageError("--until needs the text to wait for");
  return value;
}

function cpuModel(value: unknown): (typeof CPU_MODELS)[number] {
  if (value === undefined) return "qemu64";
  const model = CPU_MODELS.find((m) => m === value);
  if (model === undefined) {
    throw new UsageError(`--cpu must be one of ${CPU_MODELS.join(", ")}, got ${JSON.stringify(String(value))}`);
  }
  return model;
}

/** `--vapic` alone takes Debian's ROM; `--vapic FILE` that file; without the flag there is no kvmvapic. */
function vapicRomPath(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_VAPIC_ROM;
  if (typeof value !== "string" || value === "")
    throw new UsageError("--vapic takes the kvmvapic ROM's file name or nothing");
  return value;
}

/** `what`'s bytes, or an input error with the file's errno as the code. */
async function readInput(what: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== "string") throw error;
    throw new MemtopoError(
      code,
      `cannot read ${what} ${JSON.stringify(path)}: ${(error as Error).message.replace(/^[A-Z]+: /, "")}`,
    );
  }
}

/** The bytes as Latin-1 text; the console's bytes come one at a time, so without a Buffer for each. */
function latin1(bytes: Uint8Array): string {
  if (bytes.length === 1) return String.fromCharCode(bytes[0]!);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

async function output(ctx: CommandContext, file: string, text: string): Promise<void> {
  if (file === "-") ctx.stdout(text);
  else await ctx.writeText(file, text);
}

function summary(result: PcRunResult, until: string, memslots: number, seconds: number): string {
  const what = result.stop === "until" ? `printed ${JSON.stringify(until)}` : result.stop;
  return `memtopo pc: ${what} after ${seconds.toFixed(3)} s, ${result.exits} exits to user space, ${memslots} memslot calls\n`;
}

/**
 * `memtopo pc`: SeaBIOS (or the given firmware) on a PC board like QEMU's `-M pc -nodefaults`, on native KVM,
 * until the debug console prints a text. The board is given (the @memtopo/pc one in the command list, a scripted
 * one in tests of the command's own behaviour).
 */
export function createPcCommand(runner: PcRunner): CliCommand {
  return {
    register(cli, ctx) {
      cli
        .command("pc", "Run a firmware on the PC board (QEMU's -M pc -nodefaults) on native KVM until it prints a text")
        .option("--bios <file>", `The firmware (default ${DEFAULT_BIOS}, Debian's seabios)`)
        .option("-m <size>", "RAM, as QEMU's -m: 128M, 3G, 1.5G (MiB without a unit; default 128M)")
        .option("--debugcon <file>", "Write the debug console (port 0x402) to a file, or - for standard output")
        .option(
          "--trace-memslots <file>",
          "Write every KVM_SET_USER_MEMORY_REGION call as a JSON line (- for standard output)",
        )
        .option("--events", "Print the listener events of every commit the firmware causes, as diff --json")
        .option("--cpu <model>", "The vCPU model, as QEMU's -cpu: qemu64 (default, QEMU's) or host")
        .option(
          "--vapic [rom]",
          `Add QEMU's kvmvapic device (on in QEMU by default) with its option ROM (default ${DEFAULT_VAPIC_ROM})`,
        )
        .option("--until <text>", `Stop with success when the debug console prints this (default "${DEFAULT_UNTIL}")`)
        .option(
          "--timeout <seconds>",
          `Fail when the text has not appeared after this long (default ${DEFAULT_TIMEOUT_S})`,
        )
        .example("memtopo pc --debugcon -")
        .example("memtopo pc -m 3G --trace-memslots slots.jsonl --events > events.jsonl")
        .example("memtopo pc --vapic --cpu host --debugcon -")
        .action(async (flags: PcFlags) => {
          const biosPath = fileName("--bios", flags.bios) ?? DEFAULT_BIOS;
          const ramSize = parseRamSize(flags.m === undefined ? "128M" : String(flags.m));
          const debugconFile = fileName("--debugcon", flags.debugcon);
          const traceFile = fileName("--trace-memslots", flags.traceMemslots);
          if (flags.events !== undefined && typeof flags.events !== "boolean") {
            throw new UsageError("--events takes no value");
          }
          const until = untilText(flags.until);
          const timeoutMs = timeoutSeconds(flags.timeout) * 1000;
          const cpu = cpuModel(flags.cpu);
          const vapicPath = vapicRomPath(flags.vapic);
          const bios = await readInput("the firmware", biosPath);
          const vapicRom = vapicPath === undefined ? undefined : await readInput("the kvmvapic ROM", vapicPath);

          const matcher = new UntilMatcher(until);
          const debugText: string[] = [];
          // Standard output gets the console a line at a time (as stdio buffers a pipe by lines): the
          // firmware prints a byte per exit, and a write per byte was most of the cost of an exit.
          let pendingLine = "";
          let memslotCalls = 0;
          const memslots: string[] = [];
          const started = process.hrtime.bigint();
          let result: PcRunResult;
          try {
            result = await runner({
              bios,
              ramSize,
              timeoutMs,
              cpu,
              ...(vapicRom === undefined ? {} : { vapicRom }),
              onDebugcon: (bytes) => {
                const text = latin1(bytes);
                const seen = matcher.feed(text);
                if (debugconFile === "-") {
                  pendingLine += text;
                  // The awaited text goes out at once, before the VM is torn down.
                  if (seen || text.includes("\n")) {
                    ctx.stdout(pendingLine);
                    pendingLine = "";
                  }
                } else if (debugconFile !== undefined) debugText.push(text);
                return seen;
              },
              onMemslot: (region: KvmUserspaceMemoryRegion) => {
                memslotCalls++;
                if (traceFile !== undefined) memslots.push(memslotLine(region));
              },
              onCommit:
                flags.events === true
                  ? (events) => ctx.stdout(events.map((e) => `${JSON.stringify(e)}\n`).join(""))
                  : undefined,
            });
          } finally {
            if (pendingLine !== "") ctx.stdout(pendingLine);
          }
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          if (debugconFile !== undefined && debugconFile !== "-") await ctx.writeText(debugconFile, debugText.join(""));
          if (traceFile !== undefined) await output(ctx, traceFile, memslots.join(""));
          ctx.stderr(summary(result, until, memslotCalls, seconds));
          if (result.stop === "until") return;
          if (result.registers !== undefined)
            ctx.stderr(formatRegisters(result.registers.regs, result.registers.sregs));
          throw new MemtopoError(
            FAILURE_CODE[result.stop],
            `the guest stopped before printing ${JSON.stringify(until)}: ${result.detail}`,
          );
        });
    },
  };
}
