import type { CpuidEntry } from "@memtopo/kvm";

/** KVM_CPUID_FLAG_SIGNIFCANT_INDEX: the entry applies to one subleaf (ECX) only. */
const SIGNIFICANT_INDEX = 1;

/** Four ASCII characters as the little-endian register CPUID returns them in. */
function reg(text: string): number {
  let value = 0;
  for (let i = 3; i >= 0; i--) value = ((value << 8) | (text.charCodeAt(i) || 0)) >>> 0;
  return value;
}

/** "AuthenticAMD" in EBX, EDX, ECX order. */
const VENDOR_AMD = { ebx: reg("Auth"), edx: reg("enti"), ecx: reg("cAMD") };
/** qemu64: family 15, model 107, stepping 1 (family 0xf, extended model 6, model 0xb). */
export const QEMU64_SIGNATURE = 0x0006_0fb1;
const QEMU64_LEVEL = 0x0d;
const QEMU64_XLEVEL = 0x8000_000a;
const MODEL_ID = "QEMU Virtual CPU version 2.5+";
/** CPUID.1:EDX of qemu64: PPRO_FEATURES with MTRR, CLFLUSH, MCA and PSE36. */
export const QEMU64_1_EDX = 0x078b_fbfd;
/** CPUID.1:ECX: SSE3, CX16, and x2APIC (KVM's default); masked by what KVM supports. */
const QEMU64_1_ECX = (1 << 0) | (1 << 13) | (1 << 21);
/** The hypervisor-present bit, which QEMU sets under KVM whatever KVM reports. */
const CPUID_EXT_HYPERVISOR = 1 << 31;
/** CPUID.80000001h:EDX: the CPUID.1:EDX bits AMD mirrors, with SYSCALL, NX and LM. */
const AMD_ALIASES_MASK = 0x0183_f3ff;
const EXT2_SYSCALL_NX_LM = (1 << 11) | (1 << 20) | (1 << 29);
/** CPUID.80000001h:ECX: LAHF/SAHF in long mode (SVM, the model's other bit, is off under KVM). */
const EXT3_LAHF_LM = 1 << 0;
/**
 * KVM's paravirtual features QEMU turns on by default (kvm_default_props): kvmclock (both
 * MSR sets), no I/O delay, async page faults, steal time, PV EOI, and the stable-clock bit
 * (0x0100007b, as QEMU 7.2's guest reads it on a KVM that offers more).
 */
const KVM_DEFAULT_FEATURES = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 24);
/** MWAIT leaf defaults (cpu->mwait): interrupt break-event and extensions enumerated. */
const MWAIT_ECX = 0x3;
/** CLFLUSH line size 64 bytes (8 quadwords) in CPUID.1:EBX[15:8]. */
const CLFLUSH_LINE = 8 << 8;
/** 40 physical and 48 virtual address bits. */
const ADDRESS_SIZES = 0x3028;
/** AMD's legacy cache leaves as QEMU reports them for its models (L1 64 KiB 2-way, L2 512 KiB 16-way). */
const AMD_L1 = { eax: 0x01ff_01ff, ebx: 0x01ff_01ff, ecx: 0x4002_0140, edx: 0x4002_0140 };
const AMD_L2_L3 = { eax: 0, ebx: 0x4200_4200, ecx: 0x0200_8140, edx: 0x0080_8140 };
/** x2APIC topology (leaf 0xb) of one thread per core, one core per package: SMT then core level. */
const TOPOLOGY = [
  { ebx: 1, ecx: 0x100 },
  { ebx: 1, ecx: 0x201 },
];

function entry(fn: number, index: number, flags: number, r: Partial<Record<"eax" | "ebx" | "ecx" | "edx", number>>) {
  return { function: fn, index, flags, eax: r.eax ?? 0, ebx: r.ebx ?? 0, ecx: r.ecx ?? 0, edx: r.edx ?? 0 };
}

/**
 * The CPUID table QEMU 7.2 gives KVM for its default `-cpu qemu64` (x86_cpu_def "qemu64"
 * with kvm_default_props, cpu_x86_cpuid for each leaf), for vCPU `apicId` of a one-vCPU
 * machine. Feature words are masked by what this host's KVM supports, as QEMU filters them;
 * leaves QEMU leaves empty for an AMD-vendor model (2, 4, 6, 7, 0xa: vendor-only CPUID) are
 * zero, and leaf 0xd is absent (KVM answers zeros). The model is AMD: firmware and guests see
 * "AuthenticAMD", whatever the host.
 */
export function qemu64Cpuid(supported: readonly CpuidEntry[], apicId = 0): CpuidEntry[] {
  const find = (fn: number, index = 0) => supported.find((e) => e.function === fn && e.index === index);
  const mask = (fn: number, key: "eax" | "ebx" | "ecx" | "edx", value: number) =>
    (value & (find(fn)?.[key] ?? 0)) >>> 0;
  const edx1 = mask(1, "edx", QEMU64_1_EDX);
  const modelId = Array.from({ length: 12 }, (_, i) => reg(MODEL_ID.slice(4 * i, 4 * i + 4)));
  const table: CpuidEntry[] = [
    entry(0, 0, 0, { eax: QEMU64_LEVEL, ...VENDOR_AMD }),
    entry(1, 0, 0, {
      eax: QEMU64_SIGNATURE,
      ebx: ((apicId << 24) | CLFLUSH_LINE) >>> 0,
      ecx: (mask(1, "ecx", QEMU64_1_ECX) | CPUID_EXT_HYPERVISOR) >>> 0,
      edx: edx1,
    }),
    entry(2, 0, 0, {}),
  ];
  for (let i = 0; i < 4; i++) table.push(entry(4, i, SIGNIFICANT_INDEX, {}));
  table.push(entry(5, 0, 0, { ecx: MWAIT_ECX }), entry(6, 0, 0, {}), entry(7, 0, SIGNIFICANT_INDEX, {}));
  table.push(entry(8, 0, 0, {}), entry(9, 0, 0, {}), entry(0xa, 0, 0, {}));
  TOPOLOGY.forEach((level, i) => {
    table.push(entry(0xb, i, SIGNIFICANT_INDEX, { ...level, edx: apicId }));
  });
  // No XSAVE in qemu64: QEMU drops leaf 0xd's subleaves whose EAX is 0, i.e. all of them (an
  // entry would let KVM fill in EBX, the XSAVE area size, at run time).
  table.push(entry(0xc, 0, 0, {}));
  const kvmSignature = find(0x4000_0000);
  if (kvmSignature !== undefined) {
    table.push(
      entry(0x4000_0000, 0, 0, {
        eax: 0x4000_0001,
        ebx: kvmSignature.ebx,
        ecx: kvmSignature.ecx,
        edx: kvmSignature.edx,
      }),
    );
    table.push(entry(0x4000_0001, 0, 0, { eax: mask(0x4000_0001, "eax", KVM_DEFAULT_FEATURES) }));
  }
  table.push(entry(0x8000_0000, 0, 0, { eax: QEMU64_XLEVEL, ...VENDOR_AMD }));
  table.push(
    entry(0x8000_0001, 0, 0, {
      eax: QEMU64_SIGNATURE,
      ecx: mask(0x8000_0001, "ecx", EXT3_LAHF_LM),
      edx: mask(0x8000_0001, "edx", (edx1 & AMD_ALIASES_MASK) | EXT2_SYSCALL_NX_LM),
    }),
  );
  for (let i = 0; i < 3; i++) {
    const [eax, ebx, ecx, edx] = modelId.slice(4 * i, 4 * i + 4) as [number, number, number, number];
    table.push(entry(0x8000_0002 + i, 0, 0, { eax, ebx, ecx, edx }));
  }
  table.push(entry(0x8000_0005, 0, 0, AMD_L1), entry(0x8000_0006, 0, 0, AMD_L2_L3));
  table.push(entry(0x8000_0007, 0, 0, {}), entry(0x8000_0008, 0, 0, { eax: ADDRESS_SIZES }));
  table.push(entry(0x8000_0009, 0, 0, {}), entry(0x8000_000a, 0, 0, {}));
  return table;
}
