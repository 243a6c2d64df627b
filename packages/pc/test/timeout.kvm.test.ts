import { isAvailable, kickVcpuAfter, NativeKvm } from "@memtopo/kvm-native";
import { describe, expect, it } from "vitest";
import { createPcBoard } from "../src/index.js";

const kvm = isAvailable();
if (!kvm.ok) console.warn(`[pc] timeout-kick test skipped: ${kvm.reason}: ${kvm.detail}`);

/** 64 KiB of firmware whose reset vector jumps to itself: the guest never exits to user space. */
function spinningBios(): Uint8Array {
  const image = new Uint8Array(0x1_0000);
  image.set([0xeb, 0xfe], 0xfff0);
  return image;
}

// Rule: a run's timeout holds even when the guest never exits: with the backend's kickAfter, a
// thread kicks the vCPU at the deadline (KVM_RUN returns KVM_EXIT_INTR) and the run stops
// with "timeout" and the guest's registers (RIP at the spinning jump).
describe.skipIf(!kvm.ok)("the board's timeout on a guest that never exits", () => {
  it("stops with timeout soon after the deadline", { timeout: 120_000 }, () => {
    const vm = NativeKvm.open();
    try {
      const board = createPcBoard({
        ramSize: 128n << 20n,
        bios: spinningBios(),
        accel: { kvm: vm, ramAllocator: vm.ramAllocator, kickAfter: kickVcpuAfter },
      });
      const result = board.run({ until: "never printed", timeoutMs: 2_000 });
      console.log(`[pc] spinning guest: ${result.stop} after ${result.seconds.toFixed(2)} s, ${result.exits} exits`);
      expect(result.stop).toBe("timeout");
      expect(result.seconds).toBeGreaterThanOrEqual(2);
      // Without the kick the run would never return; nested KVM adds seconds of slack at most.
      expect(result.seconds).toBeLessThan(60);
      expect(result.registers!.regs.rip).toBe(0xfff0n);
    } finally {
      vm.close();
    }
  });
});
