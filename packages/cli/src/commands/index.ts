import type { CliCommand } from "../context.js";

/** Every subcommand, in the order `memtopo --help` lists them. Add new command files here. */
export const commands: readonly CliCommand[] = [];
