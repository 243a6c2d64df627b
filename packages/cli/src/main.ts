import { cutText, escapeText, MemtopoError } from "@memtopo/region-tree";
import { cac } from "cac";
import { commandsFor } from "./commands/index.js";
import { type CommandContext, UsageError } from "./context.js";
import { version } from "./version.js";

/**
 * Runs the `memtopo` command line and resolves to the exit code: 0 success,
 * 1 a failure of the work (bad machine file, KVM error), 2 a usage error.
 */
export async function main(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const cli = cac("memtopo");
  for (const command of await commandsFor(argv)) command.register(cli, ctx);
  cli.help();
  cli.version(version);
  try {
    cli.parse(["node", "memtopo", ...argv.map((a) => (a === "-" ? DASH : a))], { run: false });
    restoreDash(cli.args as unknown[], cli.options);
    if (cli.options.help || cli.options.version) return 0;
    if (cli.matchedCommand === undefined) {
      if (cli.args.length > 0) throw new UsageError(`unknown command "${cli.args[0]}"; see "memtopo --help"`);
      cli.outputHelp();
      return 0;
    }
    await cli.runMatchedCommand();
    return 0;
  } catch (error) {
    return report(error, ctx);
  }
}

/**
 * The argument parser drops a bare `-`, which by Unix convention names standard input or
 * output; it is passed through as a token no shell can produce (it holds a NUL) and put back.
 */
const DASH = "\u0000-";

function restoreDash(args: unknown[], options: Record<string, unknown>): void {
  const back = (v: unknown): unknown => (v === DASH ? "-" : Array.isArray(v) ? v.map(back) : v);
  args.forEach((a, i) => {
    args[i] = back(a);
  });
  for (const key of Object.keys(options)) options[key] = back(options[key]);
}

function report(error: unknown, ctx: CommandContext): number {
  if (error instanceof UsageError || (error instanceof Error && error.name === "CACError")) {
    // Usage messages echo arguments: escaped as every message is (MemtopoError escapes its own).
    ctx.stderr(`memtopo: ${cutText(escapeText(error.message), 2000)}\n`);
    return 2;
  }
  if (error instanceof MemtopoError) {
    ctx.stderr(`memtopo: error [${error.code}]: ${error.message}\n`);
    return 1;
  }
  if (error instanceof Error && "syscall" in error) {
    // A file that cannot be written (or read by an embedder's context): the same form as every other error.
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    ctx.stderr(`memtopo: error [${code}]: ${cutText(escapeText(error.message.replace(/^[A-Z]+: /, "")), 2000)}\n`);
    return 1;
  }
  throw error;
}
