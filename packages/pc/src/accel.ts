import type {
  KvmBackend,
  KvmInterrupts,
  KvmSystemState,
  KvmUserspaceMemoryRegion,
  KvmVcpu,
  KvmVcpuState,
} from "@memtopo/kvm";
import type { RamAllocator } from "@memtopo/region-tree";

/**
 * What the board needs of a KVM backend (the seam between the board and the accelerator):
 * the VM's memory ioctls, guest RAM the backend can map, and, to run firmware, the
 * in-kernel interrupt controllers and PIT and a vCPU. `@memtopo/kvm-native`'s NativeKvm
 * and `@memtopo/kvm-mock`'s MockKvm both fit; a backend without vCPUs still builds the
 * board (its map, its memslots), it just cannot run it.
 */
export interface PcAccel {
  readonly kvm: KvmBackend &
    Partial<KvmInterrupts> &
    Partial<Pick<KvmSystemState, "getSupportedCpuid">> & { createVcpu?(id: number): KvmVcpu };
  readonly ramAllocator?: RamAllocator;
  /**
   * Kicks the vCPU with `kickId` after `ms` from another thread (`@memtopo/kvm-native`'s
   * kickVcpuAfter), so a run's timeout stops even a guest that never exits to user space;
   * without it the timeout is checked at exits only.
   */
  readonly kickAfter?: (kickId: number, ms: number) => { cancel(): void };
}

/** A vCPU with the state calls the board uses when the backend offers them. */
export type PcVcpu = KvmVcpu & Partial<Pick<KvmVcpuState, "getVcpuEvents" | "setVcpuEvents" | "setCpuid2">>;

/**
 * The backend, with every KVM_SET_USER_MEMORY_REGION the kernel accepted reported to
 * `onMemslot` (after the call returns, so refused calls are not reported).
 */
export function tracingBackend(
  kvm: PcAccel["kvm"],
  onMemslot: (region: KvmUserspaceMemoryRegion) => void,
): PcAccel["kvm"] {
  return new Proxy(kvm, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key === "setUserMemoryRegion") {
        return (region: KvmUserspaceMemoryRegion) => {
          target.setUserMemoryRegion(region);
          onMemslot({ ...region });
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
