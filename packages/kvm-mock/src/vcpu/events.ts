import {
  type DebugRegs,
  type GuestDebug,
  KVM_GUESTDBG,
  KVM_VCPUEVENT_VALID,
  MP_STATES,
  type MpState,
  type VcpuEvents,
} from "@memtopo/kvm";
import { kernelError, MockKvmUsageError } from "../errors.js";

const NMI_VECTOR = 2;
const VALID_EVENT_FLAGS = Object.values(KVM_VCPUEVENT_VALID).reduce((a, b) => a | b, 0);
const VALID_GUESTDBG = Object.values(KVM_GUESTDBG).reduce((a, b) => a | b, 0);
/** DR6 as reset leaves it (the active-low bits set). */
export const DR6_RESET = 0xffff_0ff0n;
export const DR7_RESET = 0x400n;

function byte(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new MockKvmUsageError("expected an integer in [0, 255]", path);
  }
  return value;
}

function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new MockKvmUsageError("expected an integer in [0, 2^32)", path);
  }
  return value;
}

function u64(value: unknown, path: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n)
    throw new MockKvmUsageError("expected a u64 bigint", path);
  return value;
}

function object<T>(value: T, path: string): T {
  if (typeof value !== "object" || value === null) throw new MockKvmUsageError("expected an object", path);
  return value;
}

/**
 * A checked copy of the events given to KVM_SET_VCPU_EVENTS, with the kernel's rules in
 * its order: only known KVM_VCPUEVENT_VALID_* flags; PAYLOAD and TRIPLE_FAULT only when
 * their capabilities are enabled (the mock enables neither); an exception vector at most
 * 31 and not NMI's; SMM state not while an INIT is latched.
 */
export function checkVcpuEvents(events: VcpuEvents, mpState: MpState): VcpuEvents {
  const e = object(events, "events");
  const ex = object(e.exception, "events.exception");
  const irq = object(e.interrupt, "events.interrupt");
  const nmi = object(e.nmi, "events.nmi");
  const smi = object(e.smi, "events.smi");
  const tf = object(e.tripleFault, "events.tripleFault");
  const copy: VcpuEvents = {
    exception: {
      injected: byte(ex.injected, "events.exception.injected"),
      nr: byte(ex.nr, "events.exception.nr"),
      hasErrorCode: byte(ex.hasErrorCode, "events.exception.hasErrorCode"),
      pending: byte(ex.pending, "events.exception.pending"),
      errorCode: u32(ex.errorCode, "events.exception.errorCode"),
      hasPayload: byte(ex.hasPayload, "events.exception.hasPayload"),
      payload: u64(ex.payload, "events.exception.payload"),
    },
    interrupt: {
      injected: byte(irq.injected, "events.interrupt.injected"),
      nr: byte(irq.nr, "events.interrupt.nr"),
      soft: byte(irq.soft, "events.interrupt.soft"),
      shadow: byte(irq.shadow, "events.interrupt.shadow"),
    },
    nmi: {
      injected: byte(nmi.injected, "events.nmi.injected"),
      pending: byte(nmi.pending, "events.nmi.pending"),
      masked: byte(nmi.masked, "events.nmi.masked"),
    },
    sipiVector: u32(e.sipiVector, "events.sipiVector"),
    flags: u32(e.flags, "events.flags"),
    smi: {
      smm: byte(smi.smm, "events.smi.smm"),
      pending: byte(smi.pending, "events.smi.pending"),
      smmInsideNmi: byte(smi.smmInsideNmi, "events.smi.smmInsideNmi"),
      latchedInit: byte(smi.latchedInit, "events.smi.latchedInit"),
    },
    tripleFault: { pending: byte(tf.pending, "events.tripleFault.pending") },
  };
  const op = "KVM_SET_VCPU_EVENTS";
  if ((copy.flags & ~VALID_EVENT_FLAGS) !== 0)
    throw kernelError("EINVAL", op, `unknown flags 0x${copy.flags.toString(16)}`);
  if ((copy.flags & KVM_VCPUEVENT_VALID.PAYLOAD) !== 0) {
    throw kernelError("EINVAL", op, "KVM_VCPUEVENT_VALID_PAYLOAD needs KVM_CAP_EXCEPTION_PAYLOAD enabled");
  }
  // Without exception payloads the kernel ignores `pending` and the payload.
  copy.exception.pending = 0;
  copy.exception.hasPayload = 0;
  if ((copy.flags & KVM_VCPUEVENT_VALID.TRIPLE_FAULT) !== 0) {
    throw kernelError("EINVAL", op, "KVM_VCPUEVENT_VALID_TRIPLE_FAULT needs KVM_CAP_X86_TRIPLE_FAULT_EVENT enabled");
  }
  if (copy.exception.injected !== 0 && (copy.exception.nr > 31 || copy.exception.nr === NMI_VECTOR)) {
    throw kernelError("EINVAL", op, `exception vector ${copy.exception.nr} is not an exception (above 31, or NMI)`);
  }
  if (
    (copy.flags & KVM_VCPUEVENT_VALID.SMM) !== 0 &&
    (copy.smi.smm !== 0 || copy.smi.pending !== 0) &&
    mpState === "init-received"
  ) {
    throw kernelError("EINVAL", op, "SMM state while an INIT is latched");
  }
  return copy;
}

/** KVM_SET_MP_STATE on x86: only these states, and all but RUNNABLE need the in-kernel LAPIC. */
export function checkMpState(state: MpState, hasLapic: boolean): MpState {
  if (!MP_STATES.includes(state)) throw new MockKvmUsageError(`expected one of ${MP_STATES.join(", ")}`, "state");
  const op = "KVM_SET_MP_STATE";
  switch (state) {
    case "runnable":
      return state;
    case "uninitialized":
    case "halted":
    case "ap-reset-hold":
    case "init-received":
    case "sipi-received":
      if (!hasLapic) throw kernelError("EINVAL", op, `${state} needs the in-kernel LAPIC`);
      // A SIPI is taken as INIT-received with the SIPI pending.
      return state === "sipi-received" ? "init-received" : state;
    default:
      throw kernelError("EINVAL", op, `${state} is not an x86 MP state`);
  }
}

/** KVM_SET_DEBUGREGS: flags 0, DR6 and DR7 with their upper 32 bits clear. */
export function checkDebugRegs(regs: DebugRegs): DebugRegs {
  const r = object(regs, "debugRegs");
  if (!Array.isArray(r.db) || r.db.length !== 4) throw new MockKvmUsageError("expected 4 entries", "debugRegs.db");
  const copy: DebugRegs = {
    db: r.db.map((v, i) => u64(v, `debugRegs.db[${i}]`)),
    dr6: u64(r.dr6, "debugRegs.dr6"),
    dr7: u64(r.dr7, "debugRegs.dr7"),
    flags: u64(r.flags, "debugRegs.flags"),
  };
  const op = "KVM_SET_DEBUGREGS";
  if (copy.flags !== 0n) throw kernelError("EINVAL", op, "flags must be 0");
  if (copy.dr6 >> 32n !== 0n) throw kernelError("EINVAL", op, "DR6 bits 63:32 are reserved");
  if (copy.dr7 >> 32n !== 0n) throw kernelError("EINVAL", op, "DR7 bits 63:32 are reserved");
  return copy;
}

/** KVM_SET_GUEST_DEBUG: only x86's KVM_GUESTDBG_* bits. */
export function checkGuestDebug(debug: GuestDebug): GuestDebug {
  const d = object(debug, "debug");
  if (!Array.isArray(d.debugreg) || d.debugreg.length !== 8)
    throw new MockKvmUsageError("expected 8 entries", "debug.debugreg");
  const copy: GuestDebug = {
    control: u32(d.control, "debug.control"),
    debugreg: d.debugreg.map((v, i) => u64(v, `debug.debugreg[${i}]`)),
  };
  if ((copy.control & ~VALID_GUESTDBG) !== 0) {
    throw kernelError("EINVAL", "KVM_SET_GUEST_DEBUG", `unknown control bits 0x${copy.control.toString(16)}`);
  }
  return copy;
}
