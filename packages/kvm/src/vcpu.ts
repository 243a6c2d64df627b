import type { RunnableVcpu } from "./run-vcpu.js";
import type { VcpuExit } from "./vcpu-exit.js";
import type { KvmVcpuState } from "./vcpu-state.js";

/**
 * One vCPU, whatever the backend (the kernel's through kvm-native, the mock's
 * interpreter): what rust-vmm's `VcpuFd` offers, in memtopo's types. A vCPU runs in
 * one thread at a time; only {@link kick} (and `kickVcpu` with {@link kickId}) may
 * come from another.
 */
export interface KvmVcpu extends RunnableVcpu, KvmVcpuState {
  /** The vCPU id given to KVM_CREATE_VCPU (the APIC id on x86). */
  readonly id: number;
  /** One KVM_RUN, then the exit it ended with. */
  run(): VcpuExit;
  /** run() whose IO/MMIO exit object is reused by the next call (see `runVcpu`). */
  runInPlace?(): VcpuExit;
  /** Makes the current or next run() return an "intr" exit (kvm_run.immediate_exit). */
  kick(): void;
  /** A process-wide number another thread kicks this vCPU by, where the backend has threads. */
  readonly kickId?: number | undefined;
  /**
   * kvm_run.request_interrupt_window: set it to get an "irq-window-open" exit as soon as
   * the guest can take an interrupt (user-space interrupt injection, no in-kernel irqchip).
   */
  requestInterruptWindow: boolean;
  /** kvm_run.ready_for_interrupt_injection after the last run(). */
  readonly readyForInterruptInjection: boolean;
  /** kvm_run.if_flag after the last run(): the guest's RFLAGS.IF. */
  readonly ifFlag: boolean;
  /** Releases the vCPU; every later call throws EBADF. Idempotent. */
  close(): void;
}
