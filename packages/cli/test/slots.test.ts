import { readFileSync } from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const cases = casesDir;

describe("memtopo slots", () => {
  for (const name of ["kvm-x86-pc-held", "kvm-x86-q35-pcidevs-ran"]) {
    it(`--json on ${name} prints QEMU's live memslots (kvm-slots.json)`, () => {
      const r = runCli(["slots", path.join(cases, name, "machine.json"), "--json"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(path.join(cases, name, "kvm-slots.json"), "utf8")));
    });
  }

  it("prints a table for people", () => {
    const r = runCli(["slots", path.join(cases, "kvm-x86-pc-held", "machine.json")]);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^slot\s+gpa\s+size\s+flags$/);
    expect(r.stdout).toMatch(/0xfffc0000\s+0x40000\s+readonly/);
  });

  it("says why a machine that is not under KVM has none", () => {
    const r = runCli(["slots", path.join(cases, "x86-pc-held-tcg", "machine.json"), "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(r.stderr).toContain('accel is "tcg"');
  });

  it("a missing file is an error on stderr with exit 1", () => {
    const r = runCli(["slots", "/nonexistent/machine.json"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("ENOENT");
  });
});
