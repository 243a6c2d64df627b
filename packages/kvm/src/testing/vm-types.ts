import type { RamAllocator } from "@memtopo/region-tree";
import type { ReadableNotifier } from "../irq-line.js";
import type { KvmVcpu } from "../vcpu.js";
import type { KvmSystemState, KvmVcpuState } from "../vcpu-state.js";
import type { KvmVm } from "../vm.js";

/** A vCPU with its typed state: what both backends' `createVcpu` give. */
export type ConformanceVcpu = KvmVcpu & KvmVcpuState;

/** One fresh VM for a vCPU/interrupt case. */
export interface KvmVmConformanceEnv {
  /** A new VM: no memslots, no irqchip, no vCPU. */
  readonly vm: KvmVm;
  /** The system-wide reads (KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_INDEX_LIST). */
  readonly system: KvmSystemState;
  /** KVM_CREATE_VCPU on `vm`, typed with the vCPU state. */
  createVcpu(id: number): ConformanceVcpu;
  /** Guest RAM blocks `vm` may map (page aligned, mapped until cleanup). */
  readonly ram: RamAllocator;
  /** An eventfd (or the mock's stand-in) that `vm` takes in `irqfd`, readable as a resample fd. */
  createEventNotifier(): ReadableNotifier;
  /** Releases the VM and what it used. Called once per case, also after a failure. */
  cleanup(): Promise<void> | void;
}

/** Makes one isolated VM per case. */
export interface KvmVmFactory {
  /** Shown in the suite's title ("mock", "native /dev/kvm"). */
  readonly name: string;
  create(): Promise<KvmVmConformanceEnv>;
}
