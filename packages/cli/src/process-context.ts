import { readFile, writeFile } from "node:fs/promises";
import type { CommandContext } from "./context.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The context of a real process: its stdio, its files, colours only on a TTY without NO_COLOR. */
export function processContext(): CommandContext {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: process.stdout.isTTY === true && !("NO_COLOR" in process.env),
    readText: (path) => (path === "-" ? readStdin() : readFile(path, "utf8")),
    writeText: (path, text) =>
      path === "-" ? Promise.resolve(void process.stdout.write(text)) : writeFile(path, text),
  };
}
