import type { CpuidEntry } from "@memtopo/kvm";
import { boundedArray, object, protocol, uint, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

const FIELDS = ["function", "index", "flags", "eax", "ebx", "ecx", "edx"] as const;

/** kvm_cpuid_entry2 records back to back (the kernel's `entries`, without the nent header). */
export function decodeCpuid(layout: VcpuStateLayout, op: string, bytes: Uint8Array): CpuidEntry[] {
  const e = layout.cpuidEntry;
  if (bytes.length % e.size !== 0) protocol(op, `${bytes.length} bytes is not a whole number of CPUID entries`);
  const v = view(bytes);
  const out: CpuidEntry[] = [];
  for (let at = 0; at < bytes.length; at += e.size) {
    const entry = {} as CpuidEntry;
    for (const field of FIELDS) entry[field] = v.getUint32(at + e[field], true);
    out.push(entry);
  }
  return out;
}

export function encodeCpuid(layout: VcpuStateLayout, op: string, entries: readonly CpuidEntry[]): Uint8Array {
  const list = boundedArray(op, "entries", entries, layout.limits.cpuidEntries);
  const e = layout.cpuidEntry;
  const bytes = new Uint8Array(list.length * e.size);
  const v = view(bytes);
  for (let i = 0; i < list.length; i++) {
    const entry = object(op, `entries[${i}]`, list[i] as CpuidEntry);
    for (const field of FIELDS)
      v.setUint32(i * e.size + e[field], uint(op, `entries[${i}].${field}`, entry[field], 32), true);
  }
  return bytes;
}
