import { MemtopoError } from "@memtopo/region-tree";
import { cac } from "cac";
import { createPcCommand } from "../src/commands/pc.js";
import { type CommandContext, UsageError } from "../src/context.js";
import type { PcRunner } from "../src/pc/runner.js";

export interface PcOutcome {
  status: number;
  stdout: string;
  stderr: string;
  files: Map<string, string>;
}

/**
 * Runs `memtopo pc ARGS` in-process on the given board, with exit codes as main() gives them (2 usage, 1 a
 * MemtopoError). The command list of the binary holds the real board; this is for the command's own logic.
 */
export async function runPc(
  argv: readonly string[],
  runner: PcRunner,
  onStdoutWrite?: (text: string) => void,
): Promise<PcOutcome> {
  const out: PcOutcome = { status: 0, stdout: "", stderr: "", files: new Map() };
  const ctx: CommandContext = {
    stdout: (text) => {
      out.stdout += text;
      onStdoutWrite?.(text);
    },
    stderr: (text) => {
      out.stderr += text;
    },
    color: false,
    readText: () => Promise.reject(new Error("not used")),
    writeText: (path, text) => {
      out.files.set(path, text);
      return Promise.resolve();
    },
  };
  const cli = cac("memtopo");
  createPcCommand(runner).register(cli, ctx);
  try {
    cli.parse(["node", "memtopo", "pc", ...argv.map((a) => (a === "-" ? "\u0000-" : a))], { run: false });
    for (const key of Object.keys(cli.options)) if (cli.options[key] === "\u0000-") cli.options[key] = "-";
    await cli.runMatchedCommand();
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && error.name === "CACError")) {
      out.stderr += `memtopo: ${error.message}\n`;
      out.status = 2;
    } else if (error instanceof MemtopoError) {
      out.stderr += `memtopo: error [${error.code}]: ${error.message}\n`;
      out.status = 1;
    } else throw error;
  }
  return out;
}
