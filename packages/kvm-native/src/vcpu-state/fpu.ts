import type { Fpu } from "@memtopo/kvm";
import { expectLength, getU128s, object, setU128s, u64, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

const ST_REGS = 8;
const XMM_REGS = 16;

/** `struct kvm_fpu` (KVM_GET_FPU). */
export function decodeFpu(layout: VcpuStateLayout, bytes: Uint8Array): Fpu {
  const f = layout.fpu;
  expectLength("KVM_GET_FPU", bytes, f.size);
  const v = view(bytes);
  return {
    fpr: getU128s(v, f.fpr, ST_REGS),
    fcw: v.getUint16(f.fcw, true),
    fsw: v.getUint16(f.fsw, true),
    ftwx: v.getUint8(f.ftwx),
    lastOpcode: v.getUint16(f.lastOpcode, true),
    lastIp: v.getBigUint64(f.lastIp, true),
    lastDp: v.getBigUint64(f.lastDp, true),
    xmm: getU128s(v, f.xmm, XMM_REGS),
    mxcsr: v.getUint32(f.mxcsr, true),
  };
}

export function encodeFpu(layout: VcpuStateLayout, fpu: Fpu): Uint8Array {
  const op = "KVM_SET_FPU";
  object(op, "fpu", fpu);
  const f = layout.fpu;
  const bytes = new Uint8Array(f.size);
  const v = view(bytes);
  setU128s(op, "fpu.fpr", v, f.fpr, fpu.fpr, ST_REGS);
  v.setUint16(f.fcw, uint(op, "fpu.fcw", fpu.fcw, 16), true);
  v.setUint16(f.fsw, uint(op, "fpu.fsw", fpu.fsw, 16), true);
  v.setUint8(f.ftwx, uint(op, "fpu.ftwx", fpu.ftwx, 8));
  v.setUint16(f.lastOpcode, uint(op, "fpu.lastOpcode", fpu.lastOpcode, 16), true);
  v.setBigUint64(f.lastIp, u64(op, "fpu.lastIp", fpu.lastIp), true);
  v.setBigUint64(f.lastDp, u64(op, "fpu.lastDp", fpu.lastDp), true);
  setU128s(op, "fpu.xmm", v, f.xmm, fpu.xmm, XMM_REGS);
  v.setUint32(f.mxcsr, uint(op, "fpu.mxcsr", fpu.mxcsr, 32), true);
  return bytes;
}
