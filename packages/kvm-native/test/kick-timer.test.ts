import { describe, expect, it } from "vitest";
import { isBinding, loadBinding } from "../src/binding.js";
import { kickVcpuAfter } from "../src/index.js";
import { kvm, machine } from "./helpers.js";

const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("kickVcpuAfter", () => {
  it("rejects a kickId that is not u32 and a negative or infinite delay with a KvmError", () => {
    expect(() => kickVcpuAfter(-1, 10)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
    expect(() => kickVcpuAfter(0, -1)).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
    expect(() => kickVcpuAfter(0, Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("kicks from its own thread at the deadline, and never once cancelled", async () => {
    const due = kickVcpuAfter(0xffff_fff0, 20);
    const cancelled = kickVcpuAfter(0xffff_fff0, 20);
    cancelled.cancel();
    expect(due.outcome).toBe("pending");
    const until = Date.now() + 20_000;
    while (due.outcome === "pending" && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    // The thread ran kickVcpu at the deadline: no open vCPU has this id.
    expect(due.outcome).toBe("no-vcpu");
    expect(due.fired).toBe(false);
    expect(cancelled.outcome).toBe("cancelled");
  });

  // Rule: a vCPU whose guest never exits stops anyway when the timer's thread kicks it:
  // KVM_RUN, blocked in this very thread, returns KVM_EXIT_INTR.
  it.skipIf(!kvm.ok)("stops a vCPU blocked in KVM_RUN in the calling thread: run() returns intr", () => {
    const m = machine("spin");
    try {
      const timer = kickVcpuAfter(m.vcpu.kickId!, 500);
      const start = Date.now();
      let reason = "";
      // The spin guest exits to port 0x80 only every few seconds nested: the kick must not wait for it.
      while (Date.now() - start < 60_000) {
        reason = m.vcpu.run().reason;
        if (reason !== "io") break;
      }
      expect(reason).toBe("intr");
      expect(timer.fired).toBe(true);
    } finally {
      m.vm.close();
    }
  });
});
