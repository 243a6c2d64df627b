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
// A package without a test script (the fixtures' data package) runs no suite, so no report is expected from it;
// every package that has one must leave a report.
const tested = packages.filter(
  (dir) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).scripts?.test !== undefined,
);

for (const dir of packages) fs.rmSync(path.join(dir, "test-results.json"), { force: true });

const summaries = path.join(root, ".turbo", "runs");
fs.rmSync(summaries, { recursive: true, force: true });
const turbo = spawnSync("turbo", ["run", "test", "--continue", "--summarize", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});

// Exit codes of the test tasks, from turbo's run summary: a worker that dies (a native abort, say) leaves a
// report whose counts look green, with the test it was running merely "pending".
const exitCodes = new Map();
for (const name of fs.existsSync(summaries) ? fs.readdirSync(summaries) : []) {
  const summary = JSON.parse(fs.readFileSync(path.join(summaries, name), "utf8"));
  for (const task of summary.tasks) {
    if (task.task === "test") exitCodes.set(path.join(root, task.directory), task.execution?.exitCode);
  }
}
fs.rmSync(summaries, { recursive: true, force: true });

let passed = 0;
let failed = 0;
const missing = [];
const uncounted = [];
for (const dir of tested) {
  const file = path.join(dir, "test-results.json");
  if (!fs.existsSync(file)) {
    missing.push(path.relative(root, dir));
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  // A suite that fails to load has no failed tests but is a failure all the same.
  const failures =
    report.numFailedTests +
    report.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length;
  passed += report.numPassedTests;
  failed += failures;
  const exitCode = exitCodes.get(dir);
  if (failures === 0 && exitCode !== undefined && exitCode !== 0) {
    uncounted.push(`${path.relative(root, dir)} (exit ${exitCode})`);
    failed += 1;
  }
}
if (missing.length > 0) {
  console.error(`no test report from: ${missing.join(", ")}`);
  failed += missing.length;
}
if (uncounted.length > 0) console.error(`test run failed with no failed test in its report: ${uncounted.join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(turbo.status === 0 && failed === 0 ? 0 : 1);
