import { type Lapic, LVT_NAMES } from "@memtopo/kvm";
import { MockKvmUsageError } from "../errors.js";

const LVT_MASKED = 0x1_0000;
/** LVT0 in ExtINT mode, unmasked: the PIC's INTR reaches the CPU (KVM's LINT0_REENABLED quirk on the BSP). */
const LVT0_EXTINT = 0x700;
const DELIVERY_MODE = 0x700;
const EXTINT = 0x700;

/** `kvm_lapic_reset`'s register page for APIC id `id` (vCPU 0 is the BSP). */
export function resetLapic(id: number): Lapic {
  const lvt = Object.fromEntries(LVT_NAMES.map((name) => [name, LVT_MASKED])) as Lapic["lvt"];
  if (id === 0) lvt.lint0 = LVT0_EXTINT;
  return {
    id: (id & 0xff) << 24,
    version: 0x0005_0014, // APIC version 0x14, six LVT entries
    tpr: 0,
    apr: 0,
    ppr: 0,
    ldr: 0,
    dfr: 0xffff_ffff,
    svr: 0xff, // software-disabled
    isr: Array.from({ length: 8 }, () => 0),
    tmr: Array.from({ length: 8 }, () => 0),
    irr: Array.from({ length: 8 }, () => 0),
    esr: 0,
    icr: [0, 0],
    lvt,
    timerInitialCount: 0,
    timerCurrentCount: 0,
    timerDivide: 0,
  };
}

function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new MockKvmUsageError("expected an integer in [0, 2^32)", path);
  }
  return value;
}

function u32List(values: unknown, path: string): number[] {
  if (!Array.isArray(values) || values.length !== 8) throw new MockKvmUsageError("expected 8 entries", path);
  return values.map((v, i) => u32(v, `${path}[${i}]`));
}

/** A checked copy of a LAPIC page given to KVM_SET_LAPIC. */
export function copyLapic(l: Lapic): Lapic {
  if (typeof l !== "object" || l === null) throw new MockKvmUsageError("expected an object", "lapic");
  if (typeof l.lvt !== "object" || l.lvt === null) throw new MockKvmUsageError("expected an object", "lapic.lvt");
  if (!Array.isArray(l.icr) || l.icr.length !== 2) throw new MockKvmUsageError("expected 2 entries", "lapic.icr");
  const lvt = Object.fromEntries(
    LVT_NAMES.map((name) => [name, u32(l.lvt[name], `lapic.lvt.${name}`)]),
  ) as Lapic["lvt"];
  return {
    id: u32(l.id, "lapic.id"),
    version: u32(l.version, "lapic.version"),
    tpr: u32(l.tpr, "lapic.tpr"),
    apr: u32(l.apr, "lapic.apr"),
    ppr: u32(l.ppr, "lapic.ppr"),
    ldr: u32(l.ldr, "lapic.ldr"),
    dfr: u32(l.dfr, "lapic.dfr"),
    svr: u32(l.svr, "lapic.svr"),
    isr: u32List(l.isr, "lapic.isr"),
    tmr: u32List(l.tmr, "lapic.tmr"),
    irr: u32List(l.irr, "lapic.irr"),
    esr: u32(l.esr, "lapic.esr"),
    icr: [u32(l.icr[0], "lapic.icr[0]"), u32(l.icr[1], "lapic.icr[1]")],
    lvt,
    timerInitialCount: u32(l.timerInitialCount, "lapic.timerInitialCount"),
    timerCurrentCount: u32(l.timerCurrentCount, "lapic.timerCurrentCount"),
    timerDivide: u32(l.timerDivide, "lapic.timerDivide"),
  };
}

/**
 * kvm_apic_accept_pic_intr: the PIC's interrupt reaches this CPU when its APIC is disabled
 * in APIC_BASE, or when LVT0 is unmasked in ExtINT mode.
 */
export function acceptsPicInterrupt(lapic: Lapic | null, apicBase: bigint): boolean {
  if (lapic === null || (apicBase & (1n << 11n)) === 0n) return true;
  const lvt0 = lapic.lvt.lint0;
  return (lvt0 & LVT_MASKED) === 0 && (lvt0 & DELIVERY_MODE) === EXTINT;
}
