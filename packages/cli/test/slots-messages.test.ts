import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { caseFile } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

// Slots says what is wrong, and a usage error is exit 2 as the docs say.

const machine = caseFile("x86-pc-held-kvm", "machine.json");

describe("memtopo slots messages", () => {
  it("--address-spaces other than 1 or 2 is a usage error, exit 2", () => {
    for (const bad of ["x", "0", "3"]) {
      const r = runCli(["slots", machine, "--address-spaces", bad]);
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toBe(`memtopo: --address-spaces must be 1 or 2, got ${bad}\n`);
    }
  });

  it('a KVM machine without a "memory" space says so (not "accel is kvm, not kvm")', () => {
    const doc = JSON.parse(fs.readFileSync(machine, "utf8"));
    for (const as of doc.addressSpaces) if (as.name === "memory") as.name = "mem";
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-slots-")), "no-memory.json");
    fs.writeFileSync(file, JSON.stringify(doc));
    const r = runCli(["slots", file]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('memtopo: note: the machine has no address space named "memory": no memslots\n');
  });
});
