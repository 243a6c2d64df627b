import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { caseFile } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

// Inputs the CLI cannot hold are typed errors with a limit that can be raised, and every failure to
// read prints the documented `memtopo: error [CODE]: …` form.

const machine = caseFile("x86-pc-held-tcg", "machine.json");

describe("input size", () => {
  it("mtree /dev/zero: E_INPUT_TOO_LARGE, not a RangeError", () => {
    const r = runCli(["mtree", "/dev/zero"], { env: { MEMTOPO_MAX_INPUT_MB: "4" } });
    expect(r.stderr).toBe(
      'memtopo: error [E_INPUT_TOO_LARGE]: "/dev/zero" is larger than 4 MiB (MEMTOPO_MAX_INPUT_MB=N raises the limit to N MiB)\n',
    );
    expect(r.status).toBe(1);
  });

  it("standard input that never ends: the same error", () => {
    const r = runCli(["import-qemu", "-"], {
      input: "x".repeat(2 * 1024 * 1024 + 1),
      env: { MEMTOPO_MAX_INPUT_MB: "2" },
    });
    expect(r.stderr).toContain("error [E_INPUT_TOO_LARGE]: standard input is larger than 2 MiB");
    expect(r.status).toBe(1);
  });

  it("the limit can be raised: a file over it loads once MEMTOPO_MAX_INPUT_MB is above its size", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-input-"));
    const big = path.join(dir, "padded.json");
    // 1.5 MiB of JSON whitespace after a real machine file.
    fs.writeFileSync(big, fs.readFileSync(machine, "utf8") + " ".repeat(1536 * 1024));
    expect(runCli(["mtree", big], { env: { MEMTOPO_MAX_INPUT_MB: "1" } }).stderr).toContain("E_INPUT_TOO_LARGE");
    const raised = runCli(["mtree", big], { env: { MEMTOPO_MAX_INPUT_MB: "2" } });
    expect(raised.stderr).toBe("");
    expect(raised.status).toBe(0);
    expect(raised.stdout).toBe(runCli(["mtree", machine]).stdout);
  });

  it("a limit that is not a number of MiB is refused", () => {
    const r = runCli(["mtree", machine], { env: { MEMTOPO_MAX_INPUT_MB: "lots" } });
    expect(r.stderr).toBe(
      'memtopo: error [E_INPUT_LIMIT]: MEMTOPO_MAX_INPUT_MB must be a whole number of MiB, got "lots"\n',
    );
    expect(r.status).toBe(1);
  });
});

describe("files that cannot be read", () => {
  it('a missing file prints "error [ENOENT]: …" (the documented form), exit 1', () => {
    const r = runCli(["mtree", "no-such-machine.json"]);
    expect(r.stderr).toMatch(
      /^memtopo: error \[ENOENT\]: cannot read "no-such-machine\.json": no such file or directory/,
    );
    expect(r.status).toBe(1);
  });

  it("a directory: error [EISDIR]", () => {
    const r = runCli(["mtree", os.tmpdir()]);
    expect(r.stderr).toMatch(/^memtopo: error \[EISDIR\]: cannot read /);
    expect(r.status).toBe(1);
  });
});

describe("a byte-order mark", () => {
  it("before a machine file is accepted", () => {
    const r = runCli(["mtree", "-"], { input: `\ufeff${fs.readFileSync(machine, "utf8")}` });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(runCli(["mtree", machine]).stdout);
  });
});
