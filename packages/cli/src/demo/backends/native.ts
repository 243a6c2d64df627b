import { enterRealMode, type NativeKvm, runVcpu } from "@memtopo/kvm-native";
import type { DemoBackend, GuestStop } from "./types.js";

/** A real VM on /dev/kvm; guest RAM comes from the VM's own allocator, so memslots can map it. */
export function nativeBackend(vm: NativeKvm): DemoBackend {
  return {
    name: "native",
    kvm: vm,
    ramAllocator: vm.ramAllocator,
    createNotifier: () => vm.createEventNotifier(),
    runGuest(entry, fsBase, buses): GuestStop {
      const vcpu = vm.createVcpu(0);
      enterRealMode(vcpu, entry, 0x8000);
      // Real mode keeps a segment's hidden base until the register is reloaded: FS reaches the BAR.
      const sregs = vcpu.getSregs();
      sregs.fs = { ...sregs.fs, base: fsBase };
      vcpu.setSregs(sregs);
      const result = runVcpu(vcpu, buses, { maxExits: 100_000 });
      return { reason: result.reason, engine: `a real vCPU on /dev/kvm (${result.exits} exits to userspace)` };
    },
    close: () => vm.close(),
  };
}
