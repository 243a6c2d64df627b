import type { Xsave } from "@memtopo/kvm";
import { bad, expectLength, getU128s, object, setU128s, u64, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

// The XSAVE area in standard format (Intel SDM vol. 1, 13.4): an architectural layout,
// not a kvm.h struct, so its offsets are the manual's. Bytes the manual reserves
// (5, 416..512, 528..576) are not carried and are written as 0.
const FCW = 0;
const FSW = 2;
const FTW = 4;
const FOP = 6;
const FIP = 8;
const FDP = 16;
const MXCSR = 24;
const MXCSR_MASK = 28;
const ST = 32;
const XMM = 160;
const XSTATE_BV = 512;
const XCOMP_BV = 520;
/** Where the extended components (AVX and later) begin. */
export const XSAVE_EXTENDED_AT = 576;

/** `struct kvm_xsave` (KVM_GET_XSAVE, 4096 bytes). */
export function decodeXsave(layout: VcpuStateLayout, bytes: Uint8Array): Xsave {
  expectLength("KVM_GET_XSAVE", bytes, layout.xsave.size);
  const v = view(bytes);
  return {
    fcw: v.getUint16(FCW, true),
    fsw: v.getUint16(FSW, true),
    ftw: v.getUint8(FTW),
    fop: v.getUint16(FOP, true),
    fip: v.getBigUint64(FIP, true),
    fdp: v.getBigUint64(FDP, true),
    mxcsr: v.getUint32(MXCSR, true),
    mxcsrMask: v.getUint32(MXCSR_MASK, true),
    st: getU128s(v, ST, 8),
    xmm: getU128s(v, XMM, 16),
    xstateBv: v.getBigUint64(XSTATE_BV, true),
    xcompBv: v.getBigUint64(XCOMP_BV, true),
    extended: bytes.slice(XSAVE_EXTENDED_AT),
  };
}

export function encodeXsave(layout: VcpuStateLayout, xsave: Xsave): Uint8Array {
  const op = "KVM_SET_XSAVE";
  object(op, "xsave", xsave);
  const size = layout.xsave.size;
  const bytes = new Uint8Array(size);
  const v = view(bytes);
  v.setUint16(FCW, uint(op, "xsave.fcw", xsave.fcw, 16), true);
  v.setUint16(FSW, uint(op, "xsave.fsw", xsave.fsw, 16), true);
  v.setUint8(FTW, uint(op, "xsave.ftw", xsave.ftw, 8));
  v.setUint16(FOP, uint(op, "xsave.fop", xsave.fop, 16), true);
  v.setBigUint64(FIP, u64(op, "xsave.fip", xsave.fip), true);
  v.setBigUint64(FDP, u64(op, "xsave.fdp", xsave.fdp), true);
  v.setUint32(MXCSR, uint(op, "xsave.mxcsr", xsave.mxcsr, 32), true);
  v.setUint32(MXCSR_MASK, uint(op, "xsave.mxcsrMask", xsave.mxcsrMask, 32), true);
  setU128s(op, "xsave.st", v, ST, xsave.st, 8);
  setU128s(op, "xsave.xmm", v, XMM, xsave.xmm, 16);
  v.setBigUint64(XSTATE_BV, u64(op, "xsave.xstateBv", xsave.xstateBv), true);
  v.setBigUint64(XCOMP_BV, u64(op, "xsave.xcompBv", xsave.xcompBv), true);
  const extended = xsave.extended;
  if (!(extended instanceof Uint8Array) || extended.length !== size - XSAVE_EXTENDED_AT) {
    bad(op, "xsave.extended", `a Uint8Array of ${size - XSAVE_EXTENDED_AT} bytes`);
  }
  bytes.set(extended, XSAVE_EXTENDED_AT);
  return bytes;
}
