import type { KvmBackend } from "./backend.js";
import type { KvmCapabilities } from "./capabilities.js";
import type { KvmInterrupts } from "./interrupts.js";
import type { KvmVcpu } from "./vcpu.js";

/**
 * A whole KVM VM, whatever the backend: memory (the {@link KvmBackend} seam), the in-kernel
 * interrupt controllers and timer ({@link KvmInterrupts}) and vCPUs, what rust-vmm's
 * `VmFd` offers. A program written against it runs on `@memtopo/kvm-native` and on
 * `@memtopo/kvm-mock` alike.
 */
export interface KvmVm extends KvmBackend, KvmInterrupts {
  /** What the VM offers, read once (KVM_CHECK_EXTENSION); test features here, not errnos. */
  capabilities(): KvmCapabilities;
  /** KVM_CREATE_VCPU; after the first, KVM_CREATE_IRQCHIP and KVM_SET_IDENTITY_MAP_ADDR are refused. */
  createVcpu(id: number): KvmVcpu;
  /** Closes the vCPUs, then the VM. Idempotent. */
  close(): void;
}
