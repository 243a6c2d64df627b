#!/usr/bin/env node
// The release, end to end, against a real registry on 127.0.0.1, without touching this checkout:
//   1. clone HEAD into a throwaway folder, install, `changeset version`, build;
//   2. start verdaccio there and `changeset publish` every package into it;
//   3. in fresh folders outside any repository, install from that registry the way users do (npm, and pnpm with
//      install scripts blocked, as pnpm 10 does by default) and use what was installed (consumer.mjs).
// Prints one line per check and ends with "release-check: N passed, N failed"; exits 1 when any check failed.
//
//   node scripts/release/check.mjs [--keep]     (--keep leaves the work folder for a look afterwards)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runConsumerChecks } from "./consumer.mjs";
import { startRegistry, writeNpmrc } from "./registry.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const keep = process.argv.includes("--keep");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-release-"));
const repo = path.join(work, "repo");
const results = [];

function run(cmd, args, cwd, { env = {}, timeout = 600_000 } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, CI: "true", TURBO_TELEMETRY_DISABLED: "1", FORCE_COLOR: "0", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}`;
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}): ${why}\n${tail(r.stdout)}\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

function tail(text = "") {
  return text.split("\n").slice(-40).join("\n");
}

async function check(name, fn) {
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${note ? ` (${note})` : ""}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n${String(error instanceof Error ? error.message : error).replace(/^/gm, "     ")}`);
  }
}

const pnpm = ["-y", "pnpm@10.34.9"];
let registry;
try {
  console.log(`release-check: working in ${work}`);
  run("git", ["clone", "--quiet", root, repo], work);
  registry = await startRegistry(work);
  console.log(`release-check: verdaccio on ${registry.url}`);
  writeNpmrc(repo, registry);

  let published = [];
  await check("install, changeset version, build in a throwaway clone", () => {
    run("npx", [...pnpm, "install", "--frozen-lockfile", "--prefer-offline"], repo);
    run("npx", [...pnpm, "exec", "changeset", "version"], repo);
    run("npx", [...pnpm, "install", "--no-frozen-lockfile", "--prefer-offline"], repo);
    run("npx", [...pnpm, "build"], repo);
  });

  await check("changeset publish into the registry", async () => {
    run("npx", [...pnpm, "exec", "changeset", "publish"], repo);
    published = publicPackages(repo);
    const missing = [];
    for (const { name, version } of published) {
      const doc = await registryGet(`${name.replace("/", "%2f")}`);
      if (doc.versions?.[version] === undefined) missing.push(`${name}@${version}`);
    }
    if (missing.length > 0) throw new Error(`not in the registry: ${missing.join(", ")}`);
    return published.map((p) => `${p.name}@${p.version}`).join(" ");
  });

  await check("published manifests carry real ranges, not workspace:", async () => {
    for (const { name, version } of published) {
      const manifest = await registryGet(`${name.replace("/", "%2f")}/${version}`);
      const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
      const bad = Object.entries(deps).filter(([, range]) => String(range).startsWith("workspace:"));
      if (bad.length > 0) throw new Error(`${name}: ${bad.map(([d, r]) => `${d}@${r}`).join(", ")}`);
    }
  });

  await runConsumerChecks({ work, registry, root, repo, check, run });
} catch (error) {
  results.push({ name: "setup", ok: false });
  console.log(`FAIL setup\n${String(error instanceof Error ? error.stack : error).replace(/^/gm, "     ")}`);
} finally {
  registry?.stop();
  if (keep) console.log(`release-check: kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((r) => !r.ok).length;
console.log(`release-check: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/** A registry document, or {} when there is none; verdaccio drops an idle connection now and then: retried. */
async function registryGet(what) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${registry.url}${what}`);
      return res.ok ? await res.json() : {};
    } catch (error) {
      if (attempt === 3) throw new Error(`GET ${what}: ${error.message} (${error.cause?.message ?? "no cause"})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function publicPackages(dir) {
  const packagesDir = path.join(dir, "packages");
  return fs
    .readdirSync(packagesDir)
    .map((d) => path.join(packagesDir, d, "package.json"))
    .filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, "utf8")))
    .filter((p) => p.private !== true)
    .map((p) => ({ name: p.name, version: p.version }));
}
