/** MSR numbers the mock vCPU implements. */
export const MSR = {
  TSC: 0x10,
  APIC_BASE: 0x1b,
  TSC_ADJUST: 0x3b,
  SYSENTER_CS: 0x174,
  SYSENTER_ESP: 0x175,
  SYSENTER_EIP: 0x176,
  MISC_ENABLE: 0x1a0,
  PAT: 0x277,
  MTRR_DEF_TYPE: 0x2ff,
  EFER: 0xc000_0080,
  STAR: 0xc000_0081,
  LSTAR: 0xc000_0082,
  CSTAR: 0xc000_0083,
  SYSCALL_MASK: 0xc000_0084,
  FS_BASE: 0xc000_0100,
  GS_BASE: 0xc000_0101,
  KERNEL_GS_BASE: 0xc000_0102,
  TSC_AUX: 0xc000_0103,
  KVM_WALL_CLOCK_NEW: 0x4b56_4d00,
  KVM_SYSTEM_TIME_NEW: 0x4b56_4d01,
} as const;

/** KVM_GET_MSR_INDEX_LIST of the mock: the MSRs above, in the kernel's order (msrs_to_save, then emulated ones). */
export const MSR_INDEX_LIST: readonly number[] = Object.freeze([
  MSR.SYSENTER_CS,
  MSR.SYSENTER_ESP,
  MSR.SYSENTER_EIP,
  MSR.STAR,
  MSR.CSTAR,
  MSR.KERNEL_GS_BASE,
  MSR.SYSCALL_MASK,
  MSR.LSTAR,
  MSR.TSC_AUX,
  MSR.KVM_SYSTEM_TIME_NEW,
  MSR.KVM_WALL_CLOCK_NEW,
  MSR.TSC,
  MSR.TSC_ADJUST,
  MSR.APIC_BASE,
  MSR.MISC_ENABLE,
  MSR.PAT,
  MSR.MTRR_DEF_TYPE,
  MSR.EFER,
  MSR.FS_BASE,
  MSR.GS_BASE,
]);

const EFER_SCE = 1n;
const EFER_LME = 1n << 8n;
const EFER_LMA = 1n << 10n;
const EFER_NX = 1n << 11n;
/** EFER bits an Intel host supports: a set bit outside them makes the write fail. */
const EFER_VALID = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;
/** APIC_BASE: BSP (8), x2APIC enable (10), global enable (11), the base (12 up to MAXPHYADDR 39). */
const APIC_BASE_VALID = 0x7f_ffff_f000n | (1n << 11n) | (1n << 10n) | (1n << 8n);
const PAT_RESET = 0x0007_0406_0007_0406n;
const U64 = (1n << 64n) - 1n;

function canonical(value: bigint): boolean {
  const top = value >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

function patValid(value: bigint): boolean {
  for (let i = 0n; i < 8n; i++) {
    const type = (value >> (i * 8n)) & 0xffn;
    // UC, WC, WT, WP, WB, UC-: 2 and 3 are reserved, as is anything above 7.
    if (type === 2n || type === 3n || type > 7n) return false;
  }
  return true;
}

/** Where EFER and APIC_BASE live (they are sregs fields too) and what the TSC counts. */
export interface MsrHost {
  getEfer(): bigint;
  setEfer(value: bigint): void;
  getApicBase(): bigint;
  setApicBase(value: bigint): void;
  /** The guest's TSC before TSC_ADJUST/offset (the VM's virtual clock). */
  hostTsc(): bigint;
}

/**
 * The MSRs of one mock vCPU with the checks KVM's kvm_set_msr_common makes for them: a
 * write the MSR refuses, or an MSR the vCPU does not have, fails (and ends a KVM_SET_MSRS
 * batch there).
 */
export class MsrFile {
  readonly #values = new Map<number, bigint>([
    [MSR.PAT, PAT_RESET],
    [MSR.MISC_ENABLE, 1n], // fast strings, as KVM's vCPU reset leaves it
  ]);
  #tscOffset = 0n;
  readonly #host: MsrHost;

  constructor(host: MsrHost) {
    this.#host = host;
  }

  static has(index: number): boolean {
    return MSR_INDEX_LIST.includes(index);
  }

  /** The value, or null when the vCPU has no such MSR. */
  get(index: number): bigint | null {
    switch (index) {
      case MSR.EFER:
        return this.#host.getEfer();
      case MSR.APIC_BASE:
        return this.#host.getApicBase();
      case MSR.TSC:
        return (this.#host.hostTsc() + this.#tscOffset) & U64;
      default:
        return MsrFile.has(index) ? (this.#values.get(index) ?? 0n) : null;
    }
  }

  /** False when the write is refused (unknown MSR, reserved bits, a non-canonical address). */
  set(index: number, value: bigint): boolean {
    switch (index) {
      case MSR.EFER: {
        if ((value & ~EFER_VALID) !== 0n) return false;
        // LMA is the CPU's to set; a write keeps the current value.
        this.#host.setEfer((value & ~EFER_LMA) | (this.#host.getEfer() & EFER_LMA));
        return true;
      }
      case MSR.APIC_BASE:
        if ((value & ~APIC_BASE_VALID) !== 0n) return false;
        this.#host.setApicBase(value);
        return true;
      case MSR.TSC:
        this.#tscOffset = (value - this.#host.hostTsc()) & U64;
        return true;
      case MSR.PAT:
        if (!patValid(value)) return false;
        break;
      case MSR.MTRR_DEF_TYPE:
        // Type in bits 0-7 (a valid memory type), FE (10) and E (11); the rest is reserved.
        if ((value & ~0xcffn) !== 0n || !patValid(value & 0xffn)) return false;
        break;
      case MSR.FS_BASE:
      case MSR.GS_BASE:
      case MSR.KERNEL_GS_BASE:
      case MSR.LSTAR:
      case MSR.CSTAR:
      case MSR.SYSENTER_ESP:
      case MSR.SYSENTER_EIP:
        if (!canonical(value)) return false;
        break;
      case MSR.TSC_AUX:
        if (value >> 32n !== 0n) return false;
        break;
      default:
        if (!MsrFile.has(index)) return false;
    }
    this.#values.set(index, value);
    return true;
  }
}
