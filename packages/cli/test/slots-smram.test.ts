import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const caseDir = path.join(casesDir, "kvm-x86-pc-held");

it('kvm-smram: slots of KVM address space 1 are listed with "as": "KVM-SMRAM" (kvm_memory_listener_register)', () => {
  const machine = JSON.parse(readFileSync(path.join(caseDir, "machine.json"), "utf8"));
  // x86's SMRAM space: mem-smram aliases all of system (prio 0) under smram itself (prio 10).
  machine.regions.push({
    id: "smram-root",
    name: "mem-container-smram",
    kind: "container",
    size: "0x10000000000000000",
    subregions: [
      {
        id: "smram-alias",
        name: "mem-smram",
        kind: "alias",
        addr: "0x0",
        priority: 0,
        size: "0x10000000000000000",
        alias: "r1",
        aliasOffset: "0x0",
      },
      { id: "smram-ram", name: "smram", kind: "ram", addr: "0xa0000", priority: 10, size: "0x20000" },
    ],
  });
  machine.addressSpaces.push({ name: "KVM-SMRAM", root: "smram-root" });
  const file = path.join(mkdtempSync(path.join(tmpdir(), "memtopo-slots-")), "machine.json");
  writeFileSync(file, JSON.stringify(machine));

  // The captures' hosts lacked KVM_CAP_MULTI_ADDRESS_SPACE: by default KVM-SMRAM gets no listener.
  const single = runCli(["slots", file, "--json"]);
  expect(single.status).toBe(0);
  expect(JSON.parse(single.stdout)).toEqual(JSON.parse(readFileSync(path.join(caseDir, "kvm-slots.json"), "utf8")));

  const r = runCli(["slots", file, "--json", "--address-spaces", "2"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const slots = JSON.parse(r.stdout) as { gpa: string; size: string; flags: string[]; as?: string }[];
  // Every entry carries "as" once one lies outside address space 0 (FORMAT.md, kvm-slots.json).
  expect(slots.filter((s) => s.as === "memory").map(({ as: _, ...rest }) => rest)).toEqual(
    JSON.parse(readFileSync(path.join(caseDir, "kvm-slots.json"), "utf8")),
  );
  const smram = slots.filter((s) => s.as !== "memory");
  expect(smram.every((s) => s.as === "KVM-SMRAM")).toBe(true);
  // The VGA window is MMIO in `memory` (no slot) but SMRAM in KVM-SMRAM.
  expect(smram).toContainEqual({ gpa: "0xa0000", size: "0x20000", flags: [], as: "KVM-SMRAM" });
  expect(smram).toContainEqual({ gpa: "0xfffc0000", size: "0x40000", flags: ["readonly"], as: "KVM-SMRAM" });
});

it("--address-spaces must be a count the kernel could report (a usage error: exit 2, as docs/cli.md says)", () => {
  const r = runCli(["slots", path.join(caseDir, "machine.json"), "--address-spaces", "zero"]);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("--address-spaces must be 1 or 2");
});
