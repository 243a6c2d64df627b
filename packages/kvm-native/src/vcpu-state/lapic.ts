import { type Lapic, LVT_NAMES, type LvtName } from "@memtopo/kvm";
import { expectLength, fixedArray, object, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

// APIC register offsets in the 1 KiB page (Intel SDM vol. 3, table 11-1; QEMU's APIC_*):
// architectural, so written out here. Other offsets are reserved and are written as 0.
const SCALAR = {
  id: 0x20,
  version: 0x30,
  tpr: 0x80,
  apr: 0x90,
  ppr: 0xa0,
  ldr: 0xd0,
  dfr: 0xe0,
  svr: 0xf0,
  esr: 0x280,
  timerInitialCount: 0x380,
  timerCurrentCount: 0x390,
  timerDivide: 0x3e0,
} as const;
type ScalarName = keyof typeof SCALAR;
const BANKS = { isr: 0x100, tmr: 0x180, irr: 0x200 } as const;
const ICR = [0x300, 0x310] as const;
const LVT: Record<LvtName, number> = {
  timer: 0x320,
  thermal: 0x330,
  perf: 0x340,
  lint0: 0x350,
  lint1: 0x360,
  error: 0x370,
  cmci: 0x2f0,
};
/** Registers sit 16 bytes apart; banks hold 8 of them (256 bits). */
const STRIDE = 0x10;
const BANK_REGS = 8;

/** `struct kvm_lapic_state` (KVM_GET_LAPIC). */
export function decodeLapic(layout: VcpuStateLayout, bytes: Uint8Array): Lapic {
  expectLength("KVM_GET_LAPIC", bytes, layout.lapic.size);
  const v = view(bytes);
  const reg = (at: number) => v.getUint32(at, true);
  const out = {} as Lapic;
  for (const name of Object.keys(SCALAR) as ScalarName[]) out[name] = reg(SCALAR[name]);
  for (const name of Object.keys(BANKS) as (keyof typeof BANKS)[]) {
    const bank: number[] = [];
    for (let i = 0; i < BANK_REGS; i++) bank.push(reg(BANKS[name] + i * STRIDE));
    out[name] = bank;
  }
  out.icr = [reg(ICR[0]), reg(ICR[1])];
  const lvt = {} as Record<LvtName, number>;
  for (const name of LVT_NAMES) lvt[name] = reg(LVT[name]);
  out.lvt = lvt;
  return out;
}

export function encodeLapic(layout: VcpuStateLayout, lapic: Lapic): Uint8Array {
  const op = "KVM_SET_LAPIC";
  object(op, "lapic", lapic);
  const bytes = new Uint8Array(layout.lapic.size);
  const v = view(bytes);
  const set = (at: number, path: string, value: unknown) => v.setUint32(at, uint(op, path, value, 32), true);
  for (const name of Object.keys(SCALAR) as ScalarName[]) set(SCALAR[name], `lapic.${name}`, lapic[name]);
  for (const name of Object.keys(BANKS) as (keyof typeof BANKS)[]) {
    const bank = fixedArray(op, `lapic.${name}`, lapic[name], BANK_REGS);
    for (let i = 0; i < BANK_REGS; i++) set(BANKS[name] + i * STRIDE, `lapic.${name}[${i}]`, bank[i]);
  }
  const icr = fixedArray(op, "lapic.icr", lapic.icr, 2);
  set(ICR[0], "lapic.icr[0]", icr[0]);
  set(ICR[1], "lapic.icr[1]", icr[1]);
  const lvt = object(op, "lapic.lvt", lapic.lvt);
  for (const name of LVT_NAMES) set(LVT[name], `lapic.lvt.${name}`, lvt[name]);
  return bytes;
}
