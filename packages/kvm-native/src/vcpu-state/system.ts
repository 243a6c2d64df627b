import type { CpuidEntry, KvmSystemState } from "@memtopo/kvm";
import { native } from "../errors.js";
import { decodeCpuid } from "./cpuid.js";
import type { NativeSystemFunctions, VcpuStateLayout } from "./layout.js";
import { decodeMsrIndexList } from "./msrs.js";

/** The KVM device's own reads (rust-vmm `Kvm`'s), for NativeKvm: each opens the device for the call. */
export class KvmSystemReads implements KvmSystemState {
  readonly #native: NativeSystemFunctions;
  readonly #layout: VcpuStateLayout;
  readonly #devicePath: string;

  constructor(nativeSystem: NativeSystemFunctions, layout: VcpuStateLayout, devicePath: string) {
    this.#native = nativeSystem;
    this.#layout = layout;
    this.#devicePath = devicePath;
  }

  getSupportedCpuid(): CpuidEntry[] {
    const op = "KVM_GET_SUPPORTED_CPUID";
    return decodeCpuid(
      this.#layout,
      op,
      native(op, () => this.#native.getSupportedCpuid(this.#devicePath)),
    );
  }

  getEmulatedCpuid(): CpuidEntry[] {
    const op = "KVM_GET_EMULATED_CPUID";
    return decodeCpuid(
      this.#layout,
      op,
      native(op, () => this.#native.getEmulatedCpuid(this.#devicePath)),
    );
  }

  getMsrIndexList(): number[] {
    const op = "KVM_GET_MSR_INDEX_LIST";
    return decodeMsrIndexList(
      op,
      native(op, () => this.#native.getMsrIndexList(this.#devicePath)),
    );
  }

  getMsrFeatureIndexList(): number[] {
    const op = "KVM_GET_MSR_FEATURE_INDEX_LIST";
    return decodeMsrIndexList(
      op,
      native(op, () => this.#native.getMsrFeatureIndexList(this.#devicePath)),
    );
  }
}
