import { writeFile } from "node:fs/promises";
import type { CommandContext } from "./context.js";
import { maxInputBytes, readInput } from "./read-input.js";

/** The context of a real process: its stdio, its files, colours only on a TTY without NO_COLOR. */
export function processContext(): CommandContext {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
    readText: (path) => readInput(path, maxInputBytes(process.env)),
    writeText: (path, text) =>
      path === "-" ? Promise.resolve(void process.stdout.write(text)) : writeFile(path, text),
  };
}
