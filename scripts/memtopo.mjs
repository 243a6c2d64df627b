#!/usr/bin/env node
// `pnpm memtopo <args>` from the repository root: build the CLI and what it depends on,
// then run the built binary exactly as an installed `memtopo` would run.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { quietBuild } from "./lib/quiet-build.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
quietBuild(root, ["@memtopo/cli"]);
const run = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
