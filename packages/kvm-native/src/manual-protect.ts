import { KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from "@memtopo/kvm";

/**
 * The KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags to enable, from what KVM_CHECK_EXTENSION reports: the kernel's
 * offer of ENABLE and INITIALLY_SET (QEMU's kvm_init keeps exactly these two). A kernel that offers neither
 * still gets ENABLE asked of it, so that the caller who asked for manual protect hears the kernel's refusal.
 */
export function manualProtectFlagsOffered(offered: number): number {
  const flags = offered & (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
  return flags === 0 ? KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE : flags;
}
