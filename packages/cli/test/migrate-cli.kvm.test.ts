import { probe } from "@memtopo/kvm-native";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const kvm = probe();
const why = kvm.ok ? null : `${kvm.reason}: ${kvm.detail}`;
if (why !== null) console.warn(`[cli] memtopo migrate --backend native on /dev/kvm skipped: ${why}`);

// Rule: `memtopo migrate --backend native` live-migrates the workload guest between two VMs on /dev/kvm with the
// same proof as on the mock (every page equal, the guest goes on exactly where it stopped); where /dev/kvm is not
// usable, --backend native is a usage error (exit 2) that says why, for migrate and snapshot alike.
// One test whose branch follows the machine (as demo-cli's --backend native test), so that neither case shows as
// skipped: the nested-KVM CI counts a skipped test as a test that did not see /dev/kvm.
describe("memtopo migrate --backend native", () => {
  it("on /dev/kvm every page equals the source's and the guest goes on at the destination; without one, a usage error naming why, before any VM is made", {
    timeout: 600_000,
  }, () => {
    if (why !== null) {
      expectUsageErrors();
      return;
    }
    const result = runCli(["migrate", "--backend", "native", "--max-rounds", "4", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.backend).toBe("native");
    expect(report.committed).toBe(true);
    expect(report.firstDifference).toBeNull();
    expect(report.pagesCompared).toBe(256 + 16 + 64);
    expect(report.rounds[0].pages).toBe(130);
    // A real vCPU makes a whole pass between rounds: each later round carries the 112 pages it rewrote again.
    expect(report.rounds.length).toBeGreaterThanOrEqual(2);
    expect(report.rounds.length).toBeLessThanOrEqual(4);
    for (const round of report.rounds.slice(1)) expect(round.pages).toBeGreaterThanOrEqual(112);
    expect(report.stopAndCopyPages).toBeGreaterThanOrEqual(112);
    expect(report.mapChanges).toHaveLength(2);
    expect(report.passesAfter).toBe(report.passesAtStop + 2);
  });
});

function expectUsageErrors(): void {
  for (const args of [
    ["migrate", "--backend", "native"],
    ["migrate", "--backend", "native", "--incoming", "/nonexistent/m.sock"],
    ["snapshot", "save", "/nonexistent/x.snap", "--backend", "native"],
  ]) {
    const result = runCli(args);
    expect(result.status, args.join(" ")).toBe(2);
    expect(result.stderr).toContain("--backend native needs /dev/kvm");
    expect(result.stderr).toContain(kvm.ok ? "" : kvm.reason);
    expect(result.stdout).toBe("");
  }
}
