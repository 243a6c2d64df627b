import type { Fpu, Xcrs, Xsave } from "@memtopo/kvm";
import { kernelError, MockKvmUsageError } from "../errors.js";

/** XSAVE components the mock's CPU has: x87, SSE, AVX (CPUID 0xd.0 EAX of SUPPORTED_CPUID). */
const HOST_XFEATURES = 0x7n;
const XFEATURE_X87 = 1n;
const XFEATURE_SSE = 2n;
const XFEATURE_AVX = 4n;
/** MXCSR bits the CPU implements (MXCSR_MASK of FXSAVE); a set bit outside is #GP on hardware and EINVAL here. */
const MXCSR_MASK = 0xffff;
const XSAVE_EXTENDED_BYTES = 4096 - 576;
const U128 = (1n << 128n) - 1n;

function u128List(values: unknown, count: number, path: string): bigint[] {
  if (!Array.isArray(values) || values.length !== count) throw new MockKvmUsageError(`expected ${count} entries`, path);
  return values.map((v, i) => {
    if (typeof v !== "bigint" || v < 0n || v > U128)
      throw new MockKvmUsageError("expected a u128 bigint", `${path}[${i}]`);
    return v;
  });
}

function uint(value: unknown, bits: number, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new MockKvmUsageError(`expected an integer in [0, 2^${bits})`, path);
  }
  return value;
}

function u64(value: unknown, path: string): bigint {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n)
    throw new MockKvmUsageError("expected a u64 bigint", path);
  return value;
}

/**
 * A vCPU's x87/SSE/AVX state, one store behind KVM_GET/SET_FPU and KVM_GET/SET_XSAVE (the
 * FXSAVE fields are the same registers), and XCR0 behind KVM_GET/SET_XCRS, with the
 * kernel's checks: XSTATE_BV within the host's components and XCOMP_BV 0 (standard format),
 * MXCSR within MXCSR_MASK, XCR0 with x87 set, AVX only with SSE, and nothing the guest's
 * CPUID does not offer.
 */
export class FpuState {
  #fpu: Fpu = {
    fpr: Array.from({ length: 8 }, () => 0n),
    fcw: 0x37f,
    fsw: 0,
    ftwx: 0,
    lastOpcode: 0,
    lastIp: 0n,
    lastDp: 0n,
    xmm: Array.from({ length: 16 }, () => 0n),
    mxcsr: 0x1f80,
  };
  #xstateBv = XFEATURE_X87 | XFEATURE_SSE;
  #extended = new Uint8Array(XSAVE_EXTENDED_BYTES);
  #xcr0 = XFEATURE_X87;

  /** KVM_GET_FPU: kvm_arch_vcpu_ioctl_get_fpu copies no MXCSR, so the zeroed struct says 0 (XSAVE carries it). */
  getFpu(): Fpu {
    return { ...this.#fpu, fpr: [...this.#fpu.fpr], xmm: [...this.#fpu.xmm], mxcsr: 0 };
  }

  setFpu(fpu: Fpu): void {
    if (typeof fpu !== "object" || fpu === null) throw new MockKvmUsageError("expected an object", "fpu");
    // Checked as a field, but kvm_arch_vcpu_ioctl_set_fpu writes no MXCSR: the vCPU keeps its own.
    uint(fpu.mxcsr, 32, "fpu.mxcsr");
    this.#fpu = {
      fpr: u128List(fpu.fpr, 8, "fpu.fpr"),
      fcw: uint(fpu.fcw, 16, "fpu.fcw"),
      fsw: uint(fpu.fsw, 16, "fpu.fsw"),
      ftwx: uint(fpu.ftwx, 8, "fpu.ftwx"),
      lastOpcode: uint(fpu.lastOpcode, 16, "fpu.lastOpcode"),
      lastIp: u64(fpu.lastIp, "fpu.lastIp"),
      lastDp: u64(fpu.lastDp, "fpu.lastDp"),
      xmm: u128List(fpu.xmm, 16, "fpu.xmm"),
      mxcsr: this.#fpu.mxcsr,
    };
  }

  getXsave(): Xsave {
    const f = this.#fpu;
    return {
      fcw: f.fcw,
      fsw: f.fsw,
      ftw: f.ftwx,
      fop: f.lastOpcode,
      fip: f.lastIp,
      fdp: f.lastDp,
      mxcsr: f.mxcsr,
      mxcsrMask: MXCSR_MASK,
      st: [...f.fpr],
      xmm: [...f.xmm],
      xstateBv: this.#xstateBv,
      xcompBv: 0n,
      extended: this.#extended.slice(),
    };
  }

  setXsave(xsave: Xsave): void {
    if (typeof xsave !== "object" || xsave === null) throw new MockKvmUsageError("expected an object", "xsave");
    const fpu: Fpu = {
      fcw: uint(xsave.fcw, 16, "xsave.fcw"),
      fsw: uint(xsave.fsw, 16, "xsave.fsw"),
      ftwx: uint(xsave.ftw, 8, "xsave.ftw"),
      lastOpcode: uint(xsave.fop, 16, "xsave.fop"),
      lastIp: u64(xsave.fip, "xsave.fip"),
      lastDp: u64(xsave.fdp, "xsave.fdp"),
      mxcsr: uint(xsave.mxcsr, 32, "xsave.mxcsr"),
      fpr: u128List(xsave.st, 8, "xsave.st"),
      xmm: u128List(xsave.xmm, 16, "xsave.xmm"),
    };
    const xstateBv = u64(xsave.xstateBv, "xsave.xstateBv");
    const xcompBv = u64(xsave.xcompBv, "xsave.xcompBv");
    if (!(xsave.extended instanceof Uint8Array) || xsave.extended.length !== XSAVE_EXTENDED_BYTES) {
      throw new MockKvmUsageError(`expected ${XSAVE_EXTENDED_BYTES} bytes`, "xsave.extended");
    }
    if ((xstateBv & ~HOST_XFEATURES) !== 0n) {
      throw kernelError(
        "EINVAL",
        "KVM_SET_XSAVE",
        `XSTATE_BV 0x${xstateBv.toString(16)} names components the host lacks`,
      );
    }
    if (xcompBv !== 0n) throw kernelError("EINVAL", "KVM_SET_XSAVE", "XCOMP_BV must be 0 (the standard format)");
    if ((fpu.mxcsr & ~MXCSR_MASK) !== 0) {
      throw kernelError("EINVAL", "KVM_SET_XSAVE", `MXCSR 0x${fpu.mxcsr.toString(16)} sets reserved bits`);
    }
    this.#fpu = fpu;
    this.#xstateBv = xstateBv;
    this.#extended = xsave.extended.slice();
  }

  getXcrs(): Xcrs {
    return { flags: 0, xcrs: [{ xcr: 0, value: this.#xcr0 }] };
  }

  /** `guestXfeatures`: XCR0 bits the vCPU's CPUID (leaf 0xd.0 EDX:EAX) offers. */
  setXcrs(xcrs: Xcrs, guestXfeatures: bigint): void {
    if (typeof xcrs !== "object" || xcrs === null || !Array.isArray(xcrs.xcrs)) {
      throw new MockKvmUsageError("expected { flags, xcrs: [] }", "xcrs");
    }
    const flags = uint(xcrs.flags, 32, "xcrs.flags");
    const entries = xcrs.xcrs.map((x, i) => ({
      xcr: uint(x?.xcr, 32, `xcrs.xcrs[${i}].xcr`),
      value: u64(x?.value, `xcrs.xcrs[${i}].value`),
    }));
    if (entries.length > 16)
      throw kernelError("EINVAL", "KVM_SET_XCRS", `${entries.length} XCRs is more than KVM_MAX_XCRS (16)`);
    if (flags !== 0) throw kernelError("EINVAL", "KVM_SET_XCRS", "flags must be 0");
    const xcr0 = entries.find((x) => x.xcr === 0);
    if (xcr0 === undefined) return;
    const v = xcr0.value;
    const valid = guestXfeatures | XFEATURE_X87;
    if ((v & XFEATURE_X87) === 0n || ((v & XFEATURE_AVX) !== 0n && (v & XFEATURE_SSE) === 0n) || (v & ~valid) !== 0n) {
      throw kernelError(
        "EINVAL",
        "KVM_SET_XCRS",
        `XCR0 0x${v.toString(16)}: x87 must be set, AVX needs SSE, and only what CPUID 0xd offers (0x${valid.toString(16)})`,
      );
    }
    this.#xcr0 = v;
  }
}
