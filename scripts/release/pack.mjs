#!/usr/bin/env node
// Packs every public package into one folder, as `pnpm publish` would upload them (workspace: ranges replaced by
// real ones), for users who install from tarballs instead of a registry:
//   node scripts/release/pack.mjs <folder>     then, in their project: npm install <folder>/*.tgz
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { quietBuild } from "../lib/quiet-build.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = process.argv[2];
if (out === undefined || process.argv.length > 3) {
  process.stderr.write("usage: node scripts/release/pack.mjs <folder>\n");
  process.exit(2);
}
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm and npm for a script, not a turbo task input
const dest = path.resolve(process.env.INIT_CWD ?? process.cwd(), out);
fs.mkdirSync(dest, { recursive: true });

const packages = fs
  .readdirSync(path.join(root, "packages"))
  .map((d) => path.join(root, "packages", d))
  .filter((dir) => fs.existsSync(path.join(dir, "package.json")))
  .map((dir) => ({ dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) }))
  .filter((p) => p.manifest.private !== true);
quietBuild(
  root,
  packages.map((p) => p.manifest.name),
);
const pnpm = path.join(root, "node_modules/.bin/pnpm");
for (const { dir, manifest } of packages) {
  const r = spawnSync(pnpm, ["pack", "--pack-destination", dest], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(`pnpm pack failed in ${dir}:\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  process.stdout.write(`${manifest.name}@${manifest.version}\n`);
}
process.stdout.write(`packed into ${dest}\n`);
