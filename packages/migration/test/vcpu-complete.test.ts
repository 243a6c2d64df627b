import { describe, expect, it } from "vitest";
import { type completePendingExit, MigrationError, saveVcpuState } from "../src/index.js";
import { mockWorkload } from "./helpers.js";

// Rule (KVM API, kvm_run: "the corresponding operations are complete ... only after userspace has re-entered the
// kernel with KVM_RUN"): before a vCPU's state is read for a stream, it re-enters KVM_RUN with immediate_exit set,
// which finishes a pending IO/MMIO exit and runs nothing more. Otherwise the destination repeats the exiting `out`.
describe("a vCPU's pending exit is completed before its state is saved", () => {
  it("saveVcpuState kicks and runs the vCPU once (an intr exit), then reads it; the guest did not move on", () => {
    const { vcpu } = mockWorkload();
    const calls: string[] = [];
    const recorded = new Proxy(vcpu, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(key));
          const result = Reflect.apply(value, target, args);
          if (key === "run") calls.push(`exit:${(result as { reason: string }).reason}`);
          return result;
        };
      },
    });
    const before = vcpu.getRegs().rip;
    saveVcpuState(recorded, { parts: ["regs"] });
    expect(calls.slice(0, 4)).toEqual(["kick", "run", "exit:intr", "getRegs"]);
    expect(vcpu.getRegs().rip).toBe(before);
  });

  it("a vCPU that runs on instead of stopping at once is E_VCPU_RUNNING, and nothing is read", () => {
    const { vcpu } = mockWorkload();
    const reads: string[] = [];
    const runsOn = {
      id: 0,
      kick: () => {},
      run: () => ({ reason: "hlt" }) as const,
      getRegs: () => {
        reads.push("regs");
        return vcpu.getRegs();
      },
    } as unknown as Parameters<typeof completePendingExit>[0];
    expect(() => saveVcpuState(runsOn, { parts: ["regs"] })).toThrow(
      expect.objectContaining({ name: MigrationError.name, code: "E_VCPU_RUNNING" }),
    );
    expect(reads).toEqual([]);
  });
});
