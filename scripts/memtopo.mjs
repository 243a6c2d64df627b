#!/usr/bin/env node
// `pnpm memtopo <args>` from the repository root: build the CLI and what it depends on
// (turbo's cache makes this cheap when nothing changed), say nothing unless the build
// fails, then run the built binary exactly as an installed `memtopo` would run.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const build = spawnSync("turbo", ["run", "build", "--filter=@memtopo/cli...", "--output-logs=errors-only"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (build.status !== 0) {
  process.stderr.write(build.stdout ?? "");
  process.stderr.write(build.stderr ?? "");
  process.stderr.write("memtopo: building the CLI failed\n");
  process.exit(1);
}
const run = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
