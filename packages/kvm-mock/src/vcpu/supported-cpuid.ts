import { type CpuidEntry, KVM_CPUID_FLAG } from "@memtopo/kvm";
import { kernelError, MockKvmUsageError } from "../errors.js";

const CPUID_FLAG_SIGNIFICANT_INDEX = KVM_CPUID_FLAG.SIGNIFICANT_INDEX;
/** `KVM_MAX_CPUID_ENTRIES`. */
export const MAX_CPUID_ENTRIES = 256;

function ascii(text: string): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + text.charCodeAt(i);
  return v;
}

function entry(fn: number, eax: number, ebx: number, ecx: number, edx: number, index = 0, flags = 0): CpuidEntry {
  return Object.freeze({ function: fn, index, flags, eax: eax >>> 0, ebx: ebx >>> 0, ecx: ecx >>> 0, edx: edx >>> 0 });
}

/**
 * What the mock's KVM_GET_SUPPORTED_CPUID reports: a plausible x86-64 Intel host of the
 * Skylake era as KVM filters it (no PMU, no monitor/mwait, the hypervisor bit set, KVM's
 * paravirtual leaves at 0x40000000). Leaf 0xd lists the x87, SSE and AVX XSAVE components.
 */
export const SUPPORTED_CPUID: readonly CpuidEntry[] = Object.freeze([
  entry(0x0, 0xd, ascii("Genu"), ascii("ntel"), ascii("ineI")),
  // Family 6 model 0x55 stepping 4; CLFLUSH size 8 (64 bytes); the APIC id is the vCPU's.
  entry(0x1, 0x0005_0654, 0x0000_0800, 0xf7fa_3203, 0x0f8b_fbff),
  entry(0x7, 0, 0x001c_4fbb, 0x0000_000c, 0xbc00_0400, 0, CPUID_FLAG_SIGNIFICANT_INDEX),
  // XSAVE: x87 | SSE | AVX, 832 bytes for them, 4096 bytes of the KVM buffer.
  entry(0xd, 0x7, 0x340, 0x340, 0, 0, CPUID_FLAG_SIGNIFICANT_INDEX),
  entry(0xd, 0xf, 0x340, 0, 0, 1, CPUID_FLAG_SIGNIFICANT_INDEX),
  entry(0xd, 0x100, 0x240, 0, 0, 2, CPUID_FLAG_SIGNIFICANT_INDEX),
  entry(0x4000_0000, 0x4000_0001, ascii("KVMK"), ascii("VMKV"), ascii("M\0\0\0")),
  entry(0x4000_0001, 0x0100_7efb, 0, 0, 0),
  entry(0x8000_0000, 0x8000_0008, 0, 0, 0),
  entry(0x8000_0001, 0, 0, 0x0000_0121, 0x2c10_0800),
  entry(0x8000_0008, 0x0000_3027, 0, 0, 0),
]);

/** KVM_GET_EMULATED_CPUID: what KVM emulates whatever the host has (MOVBE, RDPID). */
export const EMULATED_CPUID: readonly CpuidEntry[] = Object.freeze([
  entry(0x0, 0x7, 0, 0, 0),
  entry(0x1, 0, 0, 1 << 22, 0),
  entry(0x7, 0, 0, 1 << 22, 0, 0, CPUID_FLAG_SIGNIFICANT_INDEX),
]);

/** The entry the guest's CPUID (leaf, subleaf) finds in a table, if any. */
export function findCpuid(entries: readonly CpuidEntry[], leaf: number, subleaf: number): CpuidEntry | undefined {
  return entries.find(
    (c) => c.function === leaf && ((c.flags & CPUID_FLAG_SIGNIFICANT_INDEX) === 0 || c.index === subleaf),
  );
}

function u32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new MockKvmUsageError("expected an integer in [0, 2^32)", path);
  }
  return value;
}

/**
 * A checked copy of a KVM_SET_CPUID2 table, with the kernel's rules: at most
 * KVM_MAX_CPUID_ENTRIES entries (E2BIG); leaf 0x80000008 may only give 48 or 57 virtual
 * address bits (or 0); once the vCPU has run, the table can only be set again unchanged.
 */
export function checkCpuid(
  entries: readonly CpuidEntry[],
  current: readonly CpuidEntry[],
  hasRun: boolean,
): CpuidEntry[] {
  if (!Array.isArray(entries)) throw new MockKvmUsageError("expected an array", "entries");
  const op = "KVM_SET_CPUID2";
  if (entries.length > MAX_CPUID_ENTRIES) {
    throw kernelError(
      "E2BIG",
      op,
      `${entries.length} entries is more than KVM_MAX_CPUID_ENTRIES (${MAX_CPUID_ENTRIES})`,
    );
  }
  const copy = entries.map((e, i) => {
    if (typeof e !== "object" || e === null) throw new MockKvmUsageError("expected an object", `entries[${i}]`);
    return entry(
      u32(e.function, `entries[${i}].function`),
      u32(e.eax, `entries[${i}].eax`),
      u32(e.ebx, `entries[${i}].ebx`),
      u32(e.ecx, `entries[${i}].ecx`),
      u32(e.edx, `entries[${i}].edx`),
      u32(e.index, `entries[${i}].index`),
      u32(e.flags, `entries[${i}].flags`),
    );
  });
  if (hasRun) {
    const same =
      copy.length === current.length &&
      copy.every((e, i) => {
        const c = current[i]!;
        return (
          e.function === c.function &&
          e.index === c.index &&
          e.flags === c.flags &&
          e.eax === c.eax &&
          e.ebx === c.ebx &&
          e.ecx === c.ecx &&
          e.edx === c.edx
        );
      });
    if (!same) throw kernelError("EINVAL", op, "the vCPU has run: its CPUID can only be set again unchanged");
  }
  const addressSizes = findCpuid(copy, 0x8000_0008, 0);
  if (addressSizes !== undefined) {
    const virtualBits = (addressSizes.eax >> 8) & 0xff;
    if (virtualBits !== 0 && virtualBits !== 48 && virtualBits !== 57) {
      throw kernelError("EINVAL", op, `CPUID 0x80000008 gives ${virtualBits} virtual address bits (48 or 57 only)`);
    }
  }
  return copy;
}
