import type { KvmVcpu } from "@memtopo/kvm";
import { FLAGS_FIXED } from "./alu.js";

export type Regs = ReturnType<KvmVcpu["getRegs"]>;
export type Sregs = ReturnType<KvmVcpu["getSregs"]>;
export type Segment = Sregs["cs"];

/** Segment registers in the order x86 encodes them (ModRM reg field, prefixes). */
export const SEGMENTS = ["es", "cs", "ss", "ds", "fs", "gs"] as const;
export const ES = 0;
export const CS = 1;
export const SS = 2;
export const DS = 3;
export const FS = 4;
export const GS = 5;

/** General registers in x86 encoding order. */
const GPR_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] as const;
const HIGH_NAMES = ["r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"] as const;

function segment(selector: number, type: number): Segment {
  return {
    base: BigInt(selector) << 4n,
    limit: 0xffff,
    selector,
    type,
    present: 1,
    dpl: 0,
    db: 0,
    s: 1,
    l: 0,
    g: 0,
    avl: 0,
    unusable: 0,
  };
}

/** The architectural state after RESET/INIT (SDM vol. 3, 9.1.1), as KVM sets up a new vCPU. */
export function resetSregs(apicBase: bigint): Sregs {
  const cs = { ...segment(0xf000, 11), base: 0xffff_0000n };
  return {
    cs,
    ds: segment(0, 3),
    es: segment(0, 3),
    fs: segment(0, 3),
    gs: segment(0, 3),
    ss: segment(0, 3),
    tr: { ...segment(0, 11), s: 0 },
    ldt: { ...segment(0, 2), s: 0 },
    gdt: { base: 0n, limit: 0xffff },
    idt: { base: 0n, limit: 0xffff },
    cr0: 0x6000_0010n,
    cr2: 0n,
    cr3: 0n,
    cr4: 0n,
    cr8: 0n,
    efer: 0n,
    apicBase,
    interruptBitmap: new Uint8Array(32),
  };
}

/**
 * The register file the interpreter works on: the low 32 bits of the eight legacy
 * registers as numbers, segment selectors and bases in arrays (real mode changes only
 * those), and everything else exactly as set, so that getRegs/getSregs give back what
 * setRegs/setSregs were given.
 */
export class CpuState {
  readonly gpr = new Uint32Array(8);
  /** Bits 32-63 of rax..rdi, then r8..r15 whole: the real-mode interpreter never touches them. */
  readonly #upper = new BigUint64Array(16);
  #ripHigh = 0n;
  eip = 0xfff0;
  eflags = FLAGS_FIXED;
  readonly selector = new Uint16Array(6);
  readonly base = new Float64Array(6);
  #sregs: Sregs;
  /** Interrupts are held off for one instruction after STI and MOV/POP SS. */
  interruptShadow = false;

  constructor(apicBase: bigint) {
    this.#sregs = resetSregs(apicBase);
    this.#loadSegments();
    // RDX holds the processor signature after reset; KVM puts it there from CPUID.1.EAX.
    this.gpr[2] = 0x600;
  }

  getRegs(): Regs {
    const regs = {} as Regs;
    GPR_NAMES.forEach((name, i) => {
      regs[name] = (this.#upper[i]! << 32n) | BigInt(this.gpr[i]!);
    });
    HIGH_NAMES.forEach((name, i) => {
      regs[name] = this.#upper[8 + i]!;
    });
    regs.rip = (this.#ripHigh << 32n) | BigInt(this.eip >>> 0);
    regs.rflags = BigInt(this.eflags >>> 0);
    return regs;
  }

  setRegs(regs: Regs): void {
    GPR_NAMES.forEach((name, i) => {
      this.gpr[i] = Number(regs[name] & 0xffff_ffffn);
      this.#upper[i] = regs[name] >> 32n;
    });
    HIGH_NAMES.forEach((name, i) => {
      this.#upper[8 + i] = regs[name];
    });
    this.eip = Number(regs.rip & 0xffff_ffffn);
    this.#ripHigh = regs.rip >> 32n;
    // Bit 1 of RFLAGS is fixed to 1 whatever is written, as VMX and SVM keep it.
    this.eflags = Number(regs.rflags & 0xffff_ffffn) | FLAGS_FIXED;
  }

  getSregs(): Sregs {
    const s = this.#sregs;
    const out = {
      ...s,
      gdt: { ...s.gdt },
      idt: { ...s.idt },
      interruptBitmap: s.interruptBitmap.slice(),
    } as Sregs;
    for (const name of ["tr", "ldt"] as const) out[name] = { ...s[name] };
    SEGMENTS.forEach((name, i) => {
      out[name] = { ...s[name], selector: this.selector[i]!, base: BigInt(this.base[i]!) };
    });
    return out;
  }

  setSregs(sregs: Sregs): void {
    this.#sregs = {
      ...sregs,
      gdt: { ...sregs.gdt },
      idt: { ...sregs.idt },
      interruptBitmap: sregs.interruptBitmap.slice(),
    };
    for (const name of [...SEGMENTS, "tr", "ldt"] as const) this.#sregs[name] = { ...sregs[name] };
    this.#loadSegments();
  }

  get cr0(): bigint {
    return this.#sregs.cr0;
  }

  /** MOV to CR0, CR2, CR3 or CR4 (the interpreter checks nothing: it runs real mode only). */
  setControl(name: "cr0" | "cr2" | "cr3" | "cr4", value: bigint): void {
    this.#sregs = { ...this.#sregs, [name]: value };
  }

  control(name: "cr0" | "cr2" | "cr3" | "cr4"): bigint {
    return this.#sregs[name];
  }

  /** LGDT / LIDT. */
  loadTable(name: "gdt" | "idt", base: bigint, limit: number): void {
    this.#sregs = { ...this.#sregs, [name]: { base, limit } };
  }

  get idtBase(): number {
    return Number(this.#sregs.idt.base & 0xffff_ffffn);
  }

  /** Whether CS's default operand and address size is 32 bits (unreal/big real mode). */
  get codeIs32(): boolean {
    return this.#sregs.cs.db === 1;
  }

  /** A real-mode segment load: the selector, and the base 16 times it. */
  loadSegment(index: number, selector: number): void {
    this.selector[index] = selector & 0xffff;
    this.base[index] = (selector & 0xffff) * 16;
  }

  #loadSegments(): void {
    SEGMENTS.forEach((name, i) => {
      const seg = this.#sregs[name];
      this.selector[i] = seg.selector;
      // Real mode reaches at most 4 GiB + 64 KiB: a base above that is kept exactly in sregs.
      this.base[i] = Number(seg.base & 0xffff_ffffn);
    });
  }
}

/** What an aborted instruction restores. */
export class CpuSnapshot {
  readonly gpr = new Uint32Array(8);
  readonly selector = new Uint16Array(6);
  readonly base = new Float64Array(6);
  eip = 0;
  eflags = 0;
  interruptShadow = false;

  save(cpu: CpuState): void {
    this.gpr.set(cpu.gpr);
    this.selector.set(cpu.selector);
    this.base.set(cpu.base);
    this.eip = cpu.eip;
    this.eflags = cpu.eflags;
    this.interruptShadow = cpu.interruptShadow;
  }

  restore(cpu: CpuState): void {
    cpu.gpr.set(this.gpr);
    cpu.selector.set(this.selector);
    cpu.base.set(this.base);
    cpu.eip = this.eip;
    cpu.eflags = this.eflags;
    cpu.interruptShadow = this.interruptShadow;
  }
}
