import type { KvmUserspaceMemoryRegion } from "@memtopo/kvm";

/**
 * One KVM_SET_USER_MEMORY_REGION call as `--trace-memslots` writes it (a JSON line): the fields QEMU's
 * `kvm_set_user_memory` trace event prints, minus the host address. `slot` keeps the address space id in bits
 * 16 and up (65536 and above are SMM's), `flags` are the kernel's bits, size 0x0 deletes the slot.
 */
export function memslotLine(region: KvmUserspaceMemoryRegion): string {
  return `${JSON.stringify({
    slot: region.slot,
    flags: region.flags,
    gpa: `0x${region.guestPhysAddr.toString(16)}`,
    size: `0x${region.memorySize.toString(16)}`,
  })}\n`;
}
