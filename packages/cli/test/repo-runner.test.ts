import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { caseFile } from "@memtopo/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `pnpm -s memtopo …` and `npm run -s memtopo -- …` in the repository (scripts/memtopo.mjs): a relative path means
// the caller's directory, not the repository root, and stdout carries only the command's output, so pipes work.

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const machine = caseFile("x86-pc-held-tcg", "machine.json");
let caller: string;

beforeAll(() => {
  // A folder of the user's inside the repository but in no package (pnpm and npm then run the root's script).
  const scratch = path.join(root, "node_modules/.cache");
  mkdirSync(scratch, { recursive: true });
  caller = mkdtempSync(path.join(scratch, "memtopo-caller-"));
  copyFileSync(machine, path.join(caller, "mine.json"));
});
afterAll(() => rmSync(caller, { recursive: true, force: true }));

function viaPackageManager(pm: "pnpm" | "npm", args: readonly string[]) {
  const argv = pm === "pnpm" ? ["-s", "memtopo", ...args] : ["run", "-s", "memtopo", "--", ...args];
  const bin = pm === "pnpm" ? path.join(root, "node_modules/.bin/pnpm") : "npm";
  const r = spawnSync(bin, argv, { cwd: caller, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const direct = (args: readonly string[]) =>
  spawnSync(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), ...args], {
    cwd: caller,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  }).stdout;

describe.each(["pnpm", "npm"] as const)("%s running the repository's memtopo script", (pm) => {
  it("resolves a relative machine file against the caller's directory", () => {
    const r = viaPackageManager(pm, ["mtree", "mine.json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(direct(["mtree", "mine.json"]));
  });

  it("prints nothing but the command's output on stdout (JSON pipes parse)", () => {
    const r = viaPackageManager(pm, ["demo", "--backend", "mock", "--json"]);
    expect(r.status).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});
