import {
  type CpuidEntry,
  type DebugRegs,
  type Fpu,
  type GuestDebug,
  type Lapic,
  LVT_NAMES,
  MP_STATES,
  type MsrEntry,
  type VcpuEvents,
  type Xcrs,
  type Xsave,
} from "@memtopo/kvm";
import fc from "fast-check";

// fast-check generators of every typed vCPU state shape, over each field's whole range.
export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

export const cpuidEntry: fc.Arbitrary<CpuidEntry> = fc.record({
  function: u32,
  index: u32,
  flags: u32,
  eax: u32,
  ebx: u32,
  ecx: u32,
  edx: u32,
});

export const msrEntry: fc.Arbitrary<MsrEntry> = fc.record({ index: u32, data: u64 });

export const fpu: fc.Arbitrary<Fpu> = fc.record({
  fpr: fc.array(u128, { minLength: 8, maxLength: 8 }),
  fcw: u16,
  fsw: u16,
  ftwx: u8,
  lastOpcode: u16,
  lastIp: u64,
  lastDp: u64,
  xmm: fc.array(u128, { minLength: 16, maxLength: 16 }),
  mxcsr: u32,
});

export const xsave: fc.Arbitrary<Xsave> = fc.record({
  fcw: u16,
  fsw: u16,
  ftw: u8,
  fop: u16,
  fip: u64,
  fdp: u64,
  mxcsr: u32,
  mxcsrMask: u32,
  st: fc.array(u128, { minLength: 8, maxLength: 8 }),
  xmm: fc.array(u128, { minLength: 16, maxLength: 16 }),
  xstateBv: u64,
  xcompBv: u64,
  extended: fc.uint8Array({ minLength: 4096 - 576, maxLength: 4096 - 576 }),
});

export const xcrs: fc.Arbitrary<Xcrs> = fc.record({
  flags: u32,
  xcrs: fc.array(fc.record({ xcr: u32, value: u64 }), { maxLength: 16 }),
});

const bank = fc.array(u32, { minLength: 8, maxLength: 8 });
export const lapic: fc.Arbitrary<Lapic> = fc.record({
  id: u32,
  version: u32,
  tpr: u32,
  apr: u32,
  ppr: u32,
  ldr: u32,
  dfr: u32,
  svr: u32,
  isr: bank,
  tmr: bank,
  irr: bank,
  esr: u32,
  icr: fc.tuple(u32, u32),
  lvt: fc.record(Object.fromEntries(LVT_NAMES.map((n) => [n, u32]))) as fc.Arbitrary<Lapic["lvt"]>,
  timerInitialCount: u32,
  timerCurrentCount: u32,
  timerDivide: u32,
});

export const vcpuEvents: fc.Arbitrary<VcpuEvents> = fc.record({
  exception: fc.record({
    injected: u8,
    nr: u8,
    hasErrorCode: u8,
    pending: u8,
    errorCode: u32,
    hasPayload: u8,
    payload: u64,
  }),
  interrupt: fc.record({ injected: u8, nr: u8, soft: u8, shadow: u8 }),
  nmi: fc.record({ injected: u8, pending: u8, masked: u8 }),
  sipiVector: u32,
  flags: u32,
  smi: fc.record({ smm: u8, pending: u8, smmInsideNmi: u8, latchedInit: u8 }),
  tripleFault: fc.record({ pending: u8 }),
});

export const debugRegs: fc.Arbitrary<DebugRegs> = fc.record({
  db: fc.array(u64, { minLength: 4, maxLength: 4 }),
  dr6: u64,
  dr7: u64,
  flags: u64,
});

export const guestDebug: fc.Arbitrary<GuestDebug> = fc.record({
  control: u32,
  debugreg: fc.array(u64, { minLength: 8, maxLength: 8 }),
});

export const mpState = fc.constantFrom(...MP_STATES);
