import type { GsiRoute, KvmInterrupts } from "@memtopo/kvm";
import type { PcAccel } from "./accel.js";
import { KVM_IDENTITY_MAP_BASE } from "./fw-cfg-arch.js";

/** Whether the backend has the in-kernel interrupt controllers and PIT (a KvmVm does). */
export function hasInKernelInterrupts(kvm: PcAccel["kvm"]): kvm is PcAccel["kvm"] & KvmInterrupts {
  const k = kvm as Partial<KvmInterrupts>;
  return [k.createIrqchip, k.createPit2, k.setGsiRouting, k.irqLine, k.setTssAddr, k.setIdentityMapAddr].every(
    (method) => typeof method === "function",
  );
}

/**
 * kvm_pc_setup_irq_routing: ISA IRQs 0-7 (but the cascade, 2) to the master PIC, 8-15 to
 * the slave, and GSIs 0-23 to the IOAPIC with IRQ0 on pin 2 (the PC's IRQ0 override).
 */
export function pcIrqRouting(): GsiRoute[] {
  const routes: GsiRoute[] = [];
  for (let i = 0; i < 8; i++) if (i !== 2) routes.push({ gsi: i, type: "irqchip", irqchip: "pic-master", pin: i });
  for (let i = 8; i < 16; i++) routes.push({ gsi: i, type: "irqchip", irqchip: "pic-slave", pin: i - 8 });
  for (let i = 0; i < 24; i++) {
    if (i === 0) routes.push({ gsi: 0, type: "irqchip", irqchip: "ioapic", pin: 2 });
    else if (i !== 2) routes.push({ gsi: i, type: "irqchip", irqchip: "ioapic", pin: i });
  }
  return routes;
}

/**
 * kvm_arch_init and kvm_irqchip_create: the identity map and TSS under the BIOS, the
 * in-kernel PIC+IOAPIC+LAPIC and QEMU's GSI routing. Null when the backend has none.
 */
export function createKvmIrqchip(kvm: PcAccel["kvm"]): (PcAccel["kvm"] & KvmInterrupts) | null {
  if (!hasInKernelInterrupts(kvm)) return null;
  kvm.setIdentityMapAddr(KVM_IDENTITY_MAP_BASE);
  kvm.setTssAddr(KVM_IDENTITY_MAP_BASE + 0x1000n);
  kvm.createIrqchip();
  kvm.setGsiRouting(pcIrqRouting());
  return kvm;
}
