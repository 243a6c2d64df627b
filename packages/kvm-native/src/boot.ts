import type { Segment } from "./regs.js";
import type { Vcpu } from "./vcpu.js";

const REAL_MODE_DATA: Omit<Segment, "base" | "selector"> = {
  limit: 0xffff,
  type: 3,
  present: 1,
  dpl: 0,
  db: 0,
  s: 1,
  l: 0,
  g: 0,
  avl: 0,
  unusable: 0,
};

/**
 * Puts a vCPU in 16-bit real mode with every segment at base 0 and IP at `entry`
 * (below 64 KiB), FLAGS = 2 and SP = `stack`: the state tiny test guests start in.
 */
export function enterRealMode(vcpu: Vcpu, entry: number, stack = 0): void {
  if (!Number.isInteger(entry) || entry < 0 || entry > 0xffff) throw new RangeError("entry must be in [0, 0xffff]");
  const sregs = vcpu.getSregs();
  for (const name of ["ds", "es", "fs", "gs", "ss"] as const) {
    sregs[name] = { ...REAL_MODE_DATA, base: 0n, selector: 0 };
  }
  sregs.cs = { ...REAL_MODE_DATA, type: 11, base: 0n, selector: 0 };
  sregs.cr0 &= ~1n;
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  for (const name of Object.keys(regs) as (keyof typeof regs)[]) regs[name] = 0n;
  regs.rip = BigInt(entry);
  regs.rsp = BigInt(stack);
  regs.rflags = 2n;
  vcpu.setRegs(regs);
}
