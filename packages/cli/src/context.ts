import type { CAC } from "cac";

/**
 * What a command may use of the outside world. Commands never touch process.stdout
 * or process.exit themselves, so `main()` can run them in-process (tests, embedding)
 * and decide exit codes in one place.
 */
export interface CommandContext {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal and NO_COLOR is unset: only then may output be coloured. */
  readonly color: boolean;
  /** Reads a named file, or standard input for "-". */
  readText(path: string): Promise<string>;
  writeText(path: string, text: string): Promise<void>;
}

/** A subcommand: one file under commands/, registered on the shared parser. */
export interface CliCommand {
  register(cli: CAC, ctx: CommandContext): void;
}

/** A failure the user caused (bad arguments): exit code 2, message on stderr. */
export class UsageError extends Error {
  override name = "UsageError";
}
