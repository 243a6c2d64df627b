import type { MsrEntry } from "@memtopo/kvm";
import { boundedArray, object, protocol, u64, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

/** kvm_msr_entry records back to back. */
export function decodeMsrs(layout: VcpuStateLayout, op: string, bytes: Uint8Array): MsrEntry[] {
  const e = layout.msrEntry;
  if (bytes.length % e.size !== 0) protocol(op, `${bytes.length} bytes is not a whole number of MSR entries`);
  const v = view(bytes);
  const out: MsrEntry[] = [];
  for (let at = 0; at < bytes.length; at += e.size) {
    out.push({ index: v.getUint32(at + e.index, true), data: v.getBigUint64(at + e.data, true) });
  }
  return out;
}

export function encodeMsrs(layout: VcpuStateLayout, op: string, entries: readonly MsrEntry[]): Uint8Array {
  const list = boundedArray(op, "entries", entries, layout.limits.msrEntries);
  const e = layout.msrEntry;
  const bytes = new Uint8Array(list.length * e.size);
  const v = view(bytes);
  for (let i = 0; i < list.length; i++) {
    const entry = object(op, `entries[${i}]`, list[i] as MsrEntry);
    v.setUint32(i * e.size + e.index, uint(op, `entries[${i}].index`, entry.index, 32), true);
    v.setBigUint64(i * e.size + e.data, u64(op, `entries[${i}].data`, entry.data), true);
  }
  return bytes;
}

/** The entries KVM_GET_MSRS is given: the indices, data 0. */
export function encodeMsrIndices(layout: VcpuStateLayout, op: string, indices: readonly number[]): Uint8Array {
  const list = boundedArray(op, "indices", indices, layout.limits.msrEntries);
  const e = layout.msrEntry;
  const bytes = new Uint8Array(list.length * e.size);
  const v = view(bytes);
  for (let i = 0; i < list.length; i++) v.setUint32(i * e.size + e.index, uint(op, `indices[${i}]`, list[i], 32), true);
  return bytes;
}

/** A kvm_msr_list's indices (u32 each). */
export function decodeMsrIndexList(op: string, bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0) protocol(op, `${bytes.length} bytes is not a whole number of MSR indices`);
  const v = view(bytes);
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += 4) out.push(v.getUint32(at, true));
  return out;
}
