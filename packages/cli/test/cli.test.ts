import { pathToFileURL } from "node:url";
import { caseDir, caseFile } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

describe("memtopo command line", () => {
  it("--help lists usage and exits 0", () => {
    const r = runCli(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage:");
    expect(r.stdout).toContain("memtopo");
  });

  it("--version prints the package version", () => {
    const r = runCli(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
  });

  it("an unknown command is a usage error on stderr with exit code 2", () => {
    const r = runCli(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});

describe("a bare - names standard input (Unix convention)", () => {
  it("import-qemu - reads the tree from stdin, pasted from a QEMU monitor with prompts and CRLF", async () => {
    const { readFileSync } = await import("node:fs");
    const fixture = pathToFileURL(`${caseDir("x86-pc-held-tcg")}/`);
    const tree = readFileSync(new URL("mtree-D.txt", fixture), "utf8");
    const pasted = `QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) info mtree -D\r\n${tree.replaceAll("\n", "\r\n")}(qemu) `;
    const fromStdin = runCli(["import-qemu", "-"], { input: pasted });
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stderr).toContain("removed from the tree text");
    const fromFile = runCli(["import-qemu", new URL("mtree-D.txt", fixture).pathname]);
    expect(JSON.parse(fromStdin.stdout)).toEqual(JSON.parse(fromFile.stdout));
  });
});

describe("output into a pipe that closes early", () => {
  it("exits quietly when the reader stops (svg --html | head -1, more than a pipe buffer)", async () => {
    const { spawnSync } = await import("node:child_process");
    const { binPath } = await import("./run-cli.js");
    const machine = pathToFileURL(caseFile("x86-q35-iommu-held-tcg", "machine.json"));
    const command = `"${process.execPath}" "${binPath}" svg "${machine.pathname}" --html -o - | head -1`;
    const r = spawnSync("sh", ["-c", command], {
      encoding: "utf8",
    });
    expect(r.stdout.split("\n")).toHaveLength(2);
    expect(r.stderr).not.toContain("EPIPE");
  });
});
