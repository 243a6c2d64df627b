import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

// import-qemu exits 1 with a typed error naming the line, never 0 with a file built on wrong facts.

describe("memtopo import-qemu refuses text that is not one moment of one machine", () => {
  it("a flat view of another moment (held tree, ran flat view): exit 1, E_MTREE_MISMATCH at a flat line", () => {
    const r = runCli([
      "import-qemu",
      path.join(casesDir, "x86-pc-held-kvm", "mtree-D.txt"),
      "--flat",
      path.join(casesDir, "x86-pc-ran-kvm", "mtree-f.txt"),
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error \[E_MTREE_MISMATCH\]: flat line \d+: /);
  });

  it("a line whose end is below its start without QEMU's overflow mark: exit 1, E_MACHINE_RANGE at its line", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "memtopo-import-refusals-"));
    const tree = path.join(dir, "tree.txt");
    writeFileSync(
      tree,
      [
        "address-space: memory",
        "  0000000000000000-ffffffffffffffff (prio 0, i/o): system",
        "    0000000000002000-0000000000000fff (prio 0, ram): ram",
        "",
      ].join("\n"),
    );
    const r = runCli(["import-qemu", tree]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/error \[E_MACHINE_RANGE\]: line 3: /);
  });
});
