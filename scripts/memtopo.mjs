#!/usr/bin/env node
// `pnpm -s memtopo <args>` (or `npm run -s memtopo -- <args>`) from anywhere in the repository: build the CLI and
// what it depends on, then run the built binary exactly as an installed `memtopo` would run, in the directory the
// command was typed in (pnpm and npm run scripts at the root and say where the caller stood in INIT_CWD), so that
// relative paths mean what the user meant. `-s` keeps the package manager's banner off stdout.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { quietBuild } from "./lib/quiet-build.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
quietBuild(root, ["@memtopo/cli"]);
const run = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm and npm for this script, not a turbo task input
  cwd: process.env.INIT_CWD || process.cwd(),
});
process.exit(run.status ?? 1);
