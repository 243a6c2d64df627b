import type { Xcrs } from "@memtopo/kvm";
import { boundedArray, expectLength, object, protocol, u64, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

/** `struct kvm_xcrs` (KVM_GET_XCRS). */
export function decodeXcrs(layout: VcpuStateLayout, bytes: Uint8Array): Xcrs {
  const x = layout.xcrs;
  expectLength("KVM_GET_XCRS", bytes, x.size);
  const v = view(bytes);
  const n = v.getUint32(x.nrXcrs, true);
  if (n > x.max) protocol("KVM_GET_XCRS", `nr_xcrs ${n} is above ${x.max}`);
  const xcrs: Xcrs["xcrs"] = [];
  for (let i = 0; i < n; i++) {
    const at = x.xcrs + i * x.entrySize;
    xcrs.push({ xcr: v.getUint32(at + x.xcr, true), value: v.getBigUint64(at + x.value, true) });
  }
  return { flags: v.getUint32(x.flags, true), xcrs };
}

export function encodeXcrs(layout: VcpuStateLayout, xcrs: Xcrs): Uint8Array {
  const op = "KVM_SET_XCRS";
  object(op, "xcrs", xcrs);
  const x = layout.xcrs;
  const list = boundedArray(op, "xcrs.xcrs", xcrs.xcrs, x.max);
  const bytes = new Uint8Array(x.size);
  const v = view(bytes);
  v.setUint32(x.nrXcrs, list.length, true);
  v.setUint32(x.flags, uint(op, "xcrs.flags", xcrs.flags, 32), true);
  for (let i = 0; i < list.length; i++) {
    const entry = object(op, `xcrs.xcrs[${i}]`, list[i] as Xcrs["xcrs"][number]);
    const at = x.xcrs + i * x.entrySize;
    v.setUint32(at + x.xcr, uint(op, `xcrs.xcrs[${i}].xcr`, entry.xcr, 32), true);
    v.setBigUint64(at + x.value, u64(op, `xcrs.xcrs[${i}].value`, entry.value), true);
  }
  return bytes;
}
