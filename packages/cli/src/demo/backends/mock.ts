import { runVcpu } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import type { DemoBackend, GuestStop } from "./types.js";

/**
 * The mock kernel with a mock vCPU: kvm-mock's real-mode interpreter runs the demo guest's
 * own bytes, each access going to MockKvm first (RAM slots, read-only slots, ioeventfds,
 * exactly as the kernel decides), and only what would exit to userspace reaches the exit
 * handlers, through the same runVcpu loop as the native backend.
 */
export function mockBackend(): DemoBackend {
  const kvm = new MockKvm();
  const ramAllocator = kvm.ramAllocator();
  return {
    name: "mock",
    kvm,
    ramAllocator,
    createNotifier: () => kvm.createEventNotifier(),
    runGuest(entry, fsBase, buses): GuestStop {
      const vcpu = kvm.createVcpu(0);
      // Real mode, every segment at base 0 but FS, whose hidden base reaches the BAR.
      const sregs = vcpu.getSregs();
      for (const name of ["cs", "ds", "es", "fs", "gs", "ss"] as const) {
        sregs[name] = { ...sregs[name], selector: 0, base: name === "fs" ? fsBase : 0n };
      }
      vcpu.setSregs(sregs);
      vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(entry), rsp: 0x8000n, rflags: 2n, rdx: 0n });
      const result = runVcpu(vcpu, buses, { maxExits: 100_000 });
      return {
        reason: result.reason,
        engine: `a real-mode interpreter on the mock kernel (${result.exits} exits to userspace)`,
      };
    },
    close: () => kvm.close(),
  };
}
