import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONFORMANCE_GUESTS } from "../src/testing/index.js";

const guestsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/testing/guests");
const hasBinutils = spawnSync("as", ["--version"]).status === 0 && spawnSync("objcopy", ["--version"]).status === 0;
if (!hasBinutils)
  console.warn("[kvm] conformance guest re-assembly check skipped: binutils (as, objcopy) not installed");

function assemble(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-guest-"));
  try {
    execFileSync("as", ["--32", "-o", path.join(dir, "g.o"), path.join(guestsDir, `${name}.S`)]);
    execFileSync("objcopy", ["-O", "binary", "-j", ".text", path.join(dir, "g.o"), path.join(dir, "g.bin")]);
    return fs.readFileSync(path.join(dir, "g.bin")).toString("hex");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the vCPU conformance guests", () => {
  it("every source in testing/guests has its bytes, and no bytes lack a source", () => {
    const sources = fs
      .readdirSync(guestsDir)
      .filter((f) => f.endsWith(".S"))
      .map((f) => f.slice(0, -2))
      .sort();
    expect(sources).toEqual(Object.keys(CONFORMANCE_GUESTS).sort());
  });

  it.skipIf(!hasBinutils)("the committed bytes are the sources assembled (as --32, objcopy)", () => {
    for (const [name, bytes] of Object.entries(CONFORMANCE_GUESTS)) {
      expect(Buffer.from(bytes).toString("hex"), name).toBe(assemble(name));
    }
  });
});
