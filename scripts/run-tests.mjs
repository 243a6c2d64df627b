#!/usr/bin/env node
// Runs every package's vitest suite through turbo and prints one plain
// "N passed, N failed" line summed over all packages: turbo prefixes vitest's own
// summary lines, and CI reads only the plain line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packages = ["packages", "tests"].flatMap((group) =>
  fs
    .readdirSync(path.join(root, group))
    .map((d) => path.join(root, group, d))
    .filter((dir) => fs.existsSync(path.join(dir, "package.json"))),
);

for (const dir of packages) fs.rmSync(path.join(dir, "test-results.json"), { force: true });

const turbo = spawnSync("turbo", ["run", "test", "--continue", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});

let passed = 0;
let failed = 0;
const missing = [];
for (const dir of packages) {
  const file = path.join(dir, "test-results.json");
  if (!fs.existsSync(file)) {
    missing.push(path.relative(root, dir));
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A suite that fails to load has no failed tests but is a failure all the same.
  failed += report.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length;
}
if (missing.length > 0) {
  console.error(`no test report from: ${missing.join(", ")}`);
  failed += missing.length;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(turbo.status === 0 && failed === 0 ? 0 : 1);
