import type { DebugRegs, GuestDebug } from "@memtopo/kvm";
import { expectLength, fixedArray, object, u64, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

const DB_REGS = 4;
const GUEST_DEBUG_REGS = 8;

/** `struct kvm_debugregs` (KVM_GET_DEBUGREGS). */
export function decodeDebugRegs(layout: VcpuStateLayout, bytes: Uint8Array): DebugRegs {
  const d = layout.debugRegs;
  expectLength("KVM_GET_DEBUGREGS", bytes, d.size);
  const v = view(bytes);
  const db: bigint[] = [];
  for (let i = 0; i < DB_REGS; i++) db.push(v.getBigUint64(d.db + 8 * i, true));
  return {
    db,
    dr6: v.getBigUint64(d.dr6, true),
    dr7: v.getBigUint64(d.dr7, true),
    flags: v.getBigUint64(d.flags, true),
  };
}

export function encodeDebugRegs(layout: VcpuStateLayout, regs: DebugRegs): Uint8Array {
  const op = "KVM_SET_DEBUGREGS";
  object(op, "debugRegs", regs);
  const d = layout.debugRegs;
  const bytes = new Uint8Array(d.size);
  const v = view(bytes);
  const db = fixedArray(op, "debugRegs.db", regs.db, DB_REGS);
  for (let i = 0; i < DB_REGS; i++) v.setBigUint64(d.db + 8 * i, u64(op, `debugRegs.db[${i}]`, db[i]), true);
  v.setBigUint64(d.dr6, u64(op, "debugRegs.dr6", regs.dr6), true);
  v.setBigUint64(d.dr7, u64(op, "debugRegs.dr7", regs.dr7), true);
  v.setBigUint64(d.flags, u64(op, "debugRegs.flags", regs.flags), true);
  return bytes;
}

/** `struct kvm_guest_debug` for KVM_SET_GUEST_DEBUG. */
export function encodeGuestDebug(layout: VcpuStateLayout, debug: GuestDebug): Uint8Array {
  const op = "KVM_SET_GUEST_DEBUG";
  object(op, "debug", debug);
  const g = layout.guestDebug;
  const bytes = new Uint8Array(g.size);
  const v = view(bytes);
  v.setUint32(g.control, uint(op, "debug.control", debug.control, 32), true);
  const regs = fixedArray(op, "debug.debugreg", debug.debugreg, GUEST_DEBUG_REGS);
  for (let i = 0; i < GUEST_DEBUG_REGS; i++) {
    v.setBigUint64(g.debugreg + 8 * i, u64(op, `debug.debugreg[${i}]`, regs[i]), true);
  }
  return bytes;
}
