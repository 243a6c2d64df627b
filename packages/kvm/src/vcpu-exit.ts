/**
 * `kvm_run.system_event.type`: why the guest asked to stop (PSCI or ACPI on other
 * architectures; on x86 KVM reports a triple fault as a plain SHUTDOWN exit instead).
 */
export type SystemEventType = "shutdown" | "reset" | "crash" | "wakeup" | "suspend" | "sev-term" | "unknown";

/**
 * `kvm_run.msr.reason`: why a guest RDMSR/WRMSR came to user space. Only the reasons
 * enabled with KVM_CAP_X86_USER_SPACE_MSR's mask are ever reported.
 */
export type MsrExitReason = "invalid" | "unknown" | "filter";

/**
 * A KVM_RUN exit, as a backend decodes it. The `data` of IO, MMIO and MSR exits are
 * views of the backend's kvm_run itself: what a handler writes there is what the next
 * KVM_RUN hands to the guest.
 */
export type VcpuExit =
  | {
      readonly reason: "io";
      readonly direction: "in" | "out";
      readonly port: number;
      /** Bytes per element (1, 2 or 4). */
      readonly size: number;
      /** Elements (more than 1 for rep ins/outs). */
      readonly count: number;
      /** size * count bytes: filled by the handler for "in", read by it for "out". */
      readonly data: Uint8Array;
    }
  | {
      readonly reason: "mmio";
      readonly addr: bigint;
      readonly isWrite: boolean;
      /** len bytes: filled by the handler for reads, read by it for writes. */
      readonly data: Uint8Array;
    }
  | { readonly reason: "hlt" }
  /** x86: a triple fault (the guest is dead until its registers are set again). */
  | { readonly reason: "shutdown" }
  /** KVM_RUN returned early because of a kick. */
  | { readonly reason: "intr" }
  | { readonly reason: "fail-entry"; readonly hardwareEntryFailureReason: bigint; readonly cpu: number }
  | { readonly reason: "internal-error"; readonly suberror: number; readonly data: readonly bigint[] }
  | { readonly reason: "unknown"; readonly hardwareExitReason: bigint }
  | {
      readonly reason: "system-event";
      readonly type: SystemEventType;
      /** The raw `type`, for the events "unknown" stands for. */
      readonly typeCode: number;
      /** `data[0..ndata)`: architecture-specific detail (PSCI's reset type, say). */
      readonly data: readonly bigint[];
    }
  /** `request_interrupt_window` was set and the guest can now take an interrupt. */
  | { readonly reason: "irq-window-open" }
  /** A guest debug event (KVM_SET_GUEST_DEBUG): `struct kvm_debug_exit_arch` of x86. */
  | {
      readonly reason: "debug";
      readonly exception: number;
      readonly pc: bigint;
      readonly dr6: bigint;
      readonly dr7: bigint;
    }
  | {
      readonly reason: "x86-rdmsr" | "x86-wrmsr";
      readonly msrReason: MsrExitReason;
      /** The MSR's number (ECX). */
      readonly index: number;
      /**
       * One u64: the value the guest wrote (wrmsr), or where the handler puts the value the
       * guest reads (rdmsr: EDX:EAX).
       */
      readonly data: BigUint64Array;
      /** One byte: the handler sets it non-zero to make the instruction raise #GP instead. */
      readonly error: Uint8Array;
    }
  /**
   * KVM_EXIT_DIRTY_RING_FULL: this vCPU's dirty ring reached its soft limit. Reap the rings and
   * reset them (KVM_RESET_DIRTY_RINGS) before running it again, as QEMU's `kvm_dirty_ring_reap`
   * does; until then every KVM_RUN exits so again.
   */
  | { readonly reason: "dirty-ring-full" }
  | { readonly reason: "other"; readonly exitReason: number };

/** The `reason` of every exit kind. */
export type VcpuExitReason = VcpuExit["reason"];
