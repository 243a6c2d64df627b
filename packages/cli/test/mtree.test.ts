import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const caseDir = path.join(casesDir, "x86-pc-held-tcg");
const machine = path.join(caseDir, "machine.json");
const read = (file: string): string => readFileSync(path.join(caseDir, file), "utf8");

/** Blocks as a sorted list: QEMU prints them in hash-table order, the lines inside never change. */
function blocks(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((b) => b.replace(/^FlatView #\d+\n/, "").trim())
    .filter((b) => b !== "")
    .sort();
}

describe("memtopo mtree", () => {
  it("prints info mtree for a machine file", () => {
    const r = runCli(["mtree", machine]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(blocks(r.stdout)).toEqual(blocks(read("mtree.txt")));
  });

  it("-D prints disabled regions too", () => {
    const r = runCli(["mtree", machine, "-D"]);
    expect(r.status).toBe(0);
    expect(blocks(r.stdout)).toEqual(blocks(read("mtree-D.txt")));
  });

  it("-f prints the flat views", () => {
    const r = runCli(["mtree", machine, "-f"]);
    expect(r.status).toBe(0);
    expect(blocks(r.stdout)).toEqual(blocks(read("mtree-f.txt")));
  });

  it("a bad machine file fails with exit 1 and the JSON path of the bad value", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "memtopo-mtree-"));
    const bad = path.join(dir, "bad.json");
    const json = JSON.parse(read("machine.json"));
    json.regions[0].subregions[0].size = "0xZZ";
    writeFileSync(bad, JSON.stringify(json));
    const r = runCli(["mtree", bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("[E_MACHINE_HEX]");
    expect(r.stderr).toContain("regions[0].subregions[0].size");
  });

  it("a missing file fails with exit 1", () => {
    const r = runCli(["mtree", "/nonexistent/machine.json"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("ENOENT");
  });
});
