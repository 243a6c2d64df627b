import type { CpuidEntry, KvmVcpu, Segment } from "@memtopo/kvm";

/** Code segment type: execute/read, accessed. Data: read/write, accessed. */
const SEG_TYPE_CODE = 0xb;
const SEG_TYPE_DATA = 0x3;
const SEG_TYPE_TSS_BUSY = 0xb;
const SEG_TYPE_LDT = 0x2;
/** CR0 after reset: cache disable, not write-through, extension type (x86_cpu_reset). */
const CR0_RESET = 0x6000_0010n;

/**
 * x86_cpu_reset's state, explicitly (the kernel's fresh vCPU has the same, but a board that
 * resets states it): real mode, CS selector 0xf000 with base 0xffff0000 so the first
 * fetch is at 0xfffffff0, RIP 0xfff0, RFLAGS with only the reserved bit, 64 KiB limits.
 */
export function resetX86Cpu(vcpu: Pick<KvmVcpu, "getRegs" | "setRegs" | "getSregs" | "setSregs">): void {
  const sregs = vcpu.getSregs();
  const segment = (selector: number, base: bigint, type: number): Segment => ({
    ...sregs.cs,
    base,
    limit: 0xffff,
    selector,
    type,
    present: 1,
    dpl: 0,
    db: 0,
    s: type === SEG_TYPE_LDT || type === SEG_TYPE_TSS_BUSY ? 0 : 1,
    l: 0,
    g: 0,
    avl: 0,
    unusable: 0,
  });
  sregs.cs = segment(0xf000, 0xffff_0000n, SEG_TYPE_CODE);
  for (const name of ["ds", "es", "fs", "gs", "ss"] as const) sregs[name] = segment(0, 0n, SEG_TYPE_DATA);
  sregs.tr = segment(0, 0n, SEG_TYPE_TSS_BUSY);
  sregs.ldt = segment(0, 0n, SEG_TYPE_LDT);
  sregs.gdt = { base: 0n, limit: 0xffff };
  sregs.idt = { base: 0n, limit: 0xffff };
  sregs.cr0 = CR0_RESET;
  sregs.cr2 = 0n;
  sregs.cr3 = 0n;
  sregs.cr4 = 0n;
  sregs.efer = 0n;
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  for (const key of Object.keys(regs) as (keyof typeof regs)[]) regs[key] = 0n;
  regs.rip = 0xfff0n;
  regs.rflags = 0x2n;
  vcpu.setRegs(regs);
}

/**
 * The vCPU's CPUID: what this host's KVM supports (KVM_GET_SUPPORTED_CPUID, so a host-model
 * CPU rather than QEMU's default qemu64 model), including KVM's paravirtual leaves from
 * 0x40000000 ("KVMKVMKVM": firmware then uses kvmclock), with the initial APIC ID 0 of the
 * boot CPU in leaf 1.
 */
export function hostCpuid(supported: readonly CpuidEntry[]): CpuidEntry[] {
  return supported.map((entry) => (entry.function === 1 ? { ...entry, ebx: entry.ebx & 0x00ff_ffff } : { ...entry }));
}
