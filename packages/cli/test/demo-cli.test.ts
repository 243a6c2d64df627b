import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { probe } from "@memtopo/kvm-native";
import { printMtree } from "@memtopo/qemu-text";
import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const kvm = probe();
if (!kvm.ok) console.warn(`[cli] native demo runs skipped here: KVM is not usable (${kvm.reason}: ${kvm.detail})`);

interface Report {
  backend: string;
  whyNotNative: string | null;
  mtree: string;
  flat: string;
  pamToggle: { event: string; start?: string; size?: string; region?: string; readonly?: boolean }[];
  barMove: { event: string; start?: string; datamatch?: string | null }[];
  guest: { stop: { reason: string; engine: string }; outcomes: { step: string; ok: boolean; detail: string }[] };
  ok: boolean;
}

const STEPS = ["RAM", "I/O port", "MMIO", "ROM", "ioeventfd", "POST"];

function json(args: string[]): Report {
  const r = runCli(["demo", "--json", ...args]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

/** What both backends must agree on: the machine, the events, and every guest outcome. */
function expectTheDemo(report: Report): void {
  expect(report.ok).toBe(true);
  expect(report.guest.outcomes.map((o) => [o.step, o.ok])).toEqual(STEPS.map((s) => [s, true]));
  expect(report.guest.stop.reason).toBe("hlt");
  expect(report.mtree).toContain("alias isa-bios @pc.bios 0000000000020000-000000000003ffff");
  expect(report.mtree).toContain("alias ram-above-4g @pc.ram 0000000008000000-000000000fffffff");
  // The KVM memory listener made a slot for each RAM and ROM range: `info mtree -f` marks them.
  expect(report.flat).toMatch(/^ {2}0000000000000000-000000000009ffff \(prio 0, ram\): pc\.ram KVM$/m);
  expect(report.flat).toMatch(/^ {2}00000000fffc0000-00000000ffffffff \(prio 0, rom\): pc\.bios KVM$/m);
  expect(report.flat).toMatch(/\(prio 1, i\/o\): demo-mmio$/m);
  // `address_space_update_topology_pass`: the PAM toggle splits the old isa-bios range: deleted whole, added in two pieces.
  const changes = report.pamToggle.filter((e) => e.event !== "region_nop");
  expect(changes.map((e) => [e.event, e.start, e.size, e.region, e.readonly])).toEqual([
    ["begin", undefined, undefined, undefined, undefined],
    ["region_del", "0xe0000", "0x20000", "pc.bios", true],
    ["region_add", "0xe0000", "0x10000", "pc.bios", true],
    ["region_add", "0xf0000", "0x10000", "pc.ram", true],
    ["commit", undefined, undefined, undefined, undefined],
  ]);
  // `address_space_add_del_ioeventfds`: the doorbell's ioeventfd moves with the BAR (the lower address is added first).
  const bar = report.barMove.filter((e) => e.event !== "region_nop").map((e) => [e.event, e.start]);
  expect(bar).toEqual([
    ["begin", undefined],
    ["region_del", "0xfebf0000"],
    ["region_add", "0xfe000000"],
    ["eventfd_add", "0xfe000010"],
    ["eventfd_del", "0xfebf0010"],
    ["commit", undefined],
  ]);
}

describe("memtopo demo (built binary)", () => {
  it("--help documents the backend choice, --json and --save", () => {
    const r = runCli(["demo", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--backend <backend>");
    expect(r.stdout).toContain("--json");
    expect(r.stdout).toContain("--save <file>");
  });

  it("an unknown backend is a usage error (exit 2, on stderr)", () => {
    const r = runCli(["demo", "--backend", "qemu"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--backend must be one of auto, mock, native");
  });

  it("on the mock backend: the machine, the events and every guest outcome", () => {
    const report = json(["--backend", "mock"]);
    expect(report.backend).toBe("mock");
    expect(report.whyNotNative).toBe("--backend mock was given");
    expect(report.guest.stop.engine).toMatch(/interpreter on the mock kernel/);
    expectTheDemo(report);
  });

  it("the text report: sections, one line per outcome, no colour when not on a terminal", () => {
    const r = runCli(["demo", "--backend", "mock"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    for (const heading of ["== info mtree ==", "== info mtree -f ==", "== PAM toggle", "== BAR move", "== guest:"]) {
      expect(r.stdout).toContain(heading);
    }
    for (const step of STEPS) expect(r.stdout).toMatch(new RegExp(`^ {2}ok {3}${step.replace("/", "\\/")} `, "m"));
    expect(r.stdout).not.toContain("FAIL");
    expect(r.stdout).not.toContain("\u001b[");
  });

  it("without --backend, native is used where KVM works, else the mock with one line saying why", () => {
    const r = runCli(["demo"]);
    expect(r.status).toBe(0);
    const backendLines = r.stdout.split("\n").filter((l) => l.startsWith("backend: "));
    expect(backendLines).toHaveLength(1);
    if (kvm.ok) {
      expect(backendLines[0]).toBe("backend: native (/dev/kvm)");
    } else {
      expect(backendLines[0]).toMatch(/^backend: mock \(native not used: KVM is not usable here \(.+\)\)$/);
      expect(backendLines[0]).toContain(kvm.detail);
    }
  });

  it("--backend native runs the real guest where KVM works, and fails with exit 1 where it does not", () => {
    if (kvm.ok) {
      const report = json(["--backend", "native"]);
      expect(report.backend).toBe("native");
      expect(report.whyNotNative).toBeNull();
      expect(report.guest.stop.engine).toMatch(/real vCPU/);
      expectTheDemo(report);
    } else {
      const r = runCli(["demo", "--backend", "native"]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^memtopo: error \[E_KVM_UNAVAILABLE\]: --backend native: KVM is not usable here/);
    }
  });

  it("--save writes the machine as built: loading it prints the same info mtree", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-demo-"));
    try {
      const file = path.join(dir, "demo.json");
      const r = runCli(["demo", "--backend", "mock", "--json", "--save", file]);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      const saved = loadMachine(fs.readFileSync(file, "utf8"));
      expect(saved.name).toBe("memtopo-demo");
      expect(printMtree(saved.addressSpaces)).toBe(report.mtree);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--svg draws the memory map before and after the scenes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-demo-"));
    try {
      const file = path.join(dir, "scenes.svg");
      expect(runCli(["demo", "--backend", "mock", "--svg", file]).status).toBe(0);
      const svg = fs.readFileSync(file, "utf8");
      const before = svg.indexOf("memory, as built");
      const after = svg.indexOf("memory, after the PAM toggle and the BAR move");
      expect(before).toBeGreaterThan(0);
      expect(after).toBeGreaterThan(before);
      // Before: isa-bios shows the BIOS over all of 0xe0000-0xfffff, the device sits at 0xfebf0000.
      expect(svg.slice(before, after)).toContain("0xe0000 – 0xfffff (128 KiB)");
      expect(svg.slice(before, after)).toContain("demo-mmio (i/o)\n0xfebf0000 – 0xfebf0fff");
      // After: the shadowed BIOS is read-only RAM at 0xf0000, the device has moved.
      expect(svg.slice(after)).toContain("pc.ram @0xf0000 (rom)\n0xf0000 – 0xfffff");
      expect(svg.slice(after)).toContain("demo-mmio (i/o)\n0xfe000000 – 0xfe000fff");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
