import type { Regs, Segment, Sregs } from "@memtopo/kvm";

const EFER_LMA = 0x400n;

const h = (v: bigint | number, digits: number): string => v.toString(16).padStart(digits, "0");

/** A segment as QEMU's register dump prints it: selector, base, limit, then the descriptor flags word. */
function segment(name: string, s: Segment): string {
  const flags =
    (s.type << 8) |
    (s.s << 12) |
    (s.dpl << 13) |
    (s.present << 15) |
    (s.avl << 20) |
    (s.l << 21) |
    (s.db << 22) |
    (s.g << 23);
  return `${name.toUpperCase().padEnd(3)}=${h(s.selector, 4)} ${h(s.base, 16)} ${h(s.limit >>> 0, 8)} ${h(flags >>> 0, 8)}\n`;
}

/**
 * The vCPU's registers in the layout of QEMU's `info registers` (x86_cpu_dump_state): 32-bit names and widths
 * unless the guest is in long mode, then the segments, descriptor tables, control registers and EFER.
 */
export function formatRegisters(regs: Regs, sregs: Sregs): string {
  const long = (sregs.efer & EFER_LMA) !== 0n;
  const width = long ? 16 : 8;
  const mask = long ? (1n << 64n) - 1n : 0xffffffffn;
  const r = (name: keyof Regs): string => h(regs[name] & mask, width);
  const p = long ? "R" : "E";
  const out: string[] = [
    `${p}AX=${r("rax")} ${p}BX=${r("rbx")} ${p}CX=${r("rcx")} ${p}DX=${r("rdx")}\n`,
    `${p}SI=${r("rsi")} ${p}DI=${r("rdi")} ${p}BP=${r("rbp")} ${p}SP=${r("rsp")}\n`,
  ];
  if (long) {
    out.push(`R8 =${r("r8")} R9 =${r("r9")} R10=${r("r10")} R11=${r("r11")}\n`);
    out.push(`R12=${r("r12")} R13=${r("r13")} R14=${r("r14")} R15=${r("r15")}\n`);
  }
  out.push(`${p}IP=${r("rip")} ${p}FL=${h(regs.rflags, 8)}\n`);
  for (const name of ["es", "cs", "ss", "ds", "fs", "gs", "ldt", "tr"] as const) {
    out.push(segment(name === "ldt" ? "LDT" : name === "tr" ? "TR" : name, sregs[name]));
  }
  out.push(`GDT=     ${h(sregs.gdt.base, 16)} ${h(sregs.gdt.limit, 8)}\n`);
  out.push(`IDT=     ${h(sregs.idt.base, 16)} ${h(sregs.idt.limit, 8)}\n`);
  out.push(`CR0=${h(sregs.cr0, 8)} CR2=${h(sregs.cr2, 16)} CR3=${h(sregs.cr3, 16)} CR4=${h(sregs.cr4, 8)}\n`);
  out.push(`EFER=${h(sregs.efer, 16)} APIC_BASE=${h(sregs.apicBase, 16)}\n`);
  return out.join("");
}
