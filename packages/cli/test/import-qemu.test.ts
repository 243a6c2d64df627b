import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const caseDir = path.join(casesDir, "x86-pc-held-kvm");
const file = (name: string): string => path.join(caseDir, name);

function blocks(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((b) => b.replace(/^FlatView #\d+\n/, "").trim())
    .filter((b) => b !== "")
    .sort();
}

describe("memtopo import-qemu", () => {
  it("writes a machine file that memtopo mtree prints back as QEMU's text", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "memtopo-import-"));
    const out = path.join(dir, "machine.json");
    const r = runCli(["import-qemu", file("mtree-D.txt"), "--flat", file("mtree-f.txt"), "-o", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    const machine = JSON.parse(readFileSync(out, "utf8"));
    expect(machine.format).toBe("memtopo-machine/1");
    expect(machine.accel).toBe("kvm");
    const tree = runCli(["mtree", out, "-D"]);
    expect(blocks(tree.stdout)).toEqual(blocks(readFileSync(file("mtree-D.txt"), "utf8")));
    const flat = runCli(["mtree", out, "-f"]);
    // accel kvm: the KVM listeners run on the mock kernel and mark memslot-backed ranges " KVM".
    expect(blocks(flat.stdout)).toEqual(blocks(readFileSync(file("mtree-f.txt"), "utf8")));
  });

  it("without --flat it states its assumptions on stderr and writes to stdout", () => {
    const r = runCli(["import-qemu", file("mtree-D.txt")]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).format).toBe("memtopo-machine/1");
    expect(r.stderr).toContain("no flat view");
  });

  it("rejects an unknown --accel as a usage error", () => {
    const r = runCli(["import-qemu", file("mtree-D.txt"), "--accel", "hvf"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--accel");
  });

  it("a text that is not info mtree fails with exit 1 and the line", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "memtopo-import-"));
    const bad = path.join(dir, "bad.txt");
    writeFileSync(bad, "address-space: memory\n  what is this\n");
    const r = runCli(["import-qemu", bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[E_MTREE_SYNTAX]");
    expect(r.stderr).toContain("line 2");
  });
});
