import { KVM_CAP, type KvmBackend } from "./backend.js";

/**
 * What a KVM VM offers, read once with KVM_CHECK_EXTENSION: the features QEMU's kvm_init
 * and kvm_arch_init test, so callers ask `caps.irqfd`, not an ioctl's errno. Counts are
 * the kernel's numbers (0 when the capability is absent).
 */
export interface KvmCapabilities {
  readonly irqchip: boolean;
  readonly splitIrqchip: boolean;
  readonly irqfd: boolean;
  readonly irqfdResample: boolean;
  readonly irqRouting: boolean;
  /** KVM_CAP_IRQ_ROUTING's value: how many GSIs a routing table may use (QEMU's gsi_count). */
  readonly gsiCount: number;
  readonly irqInjectStatus: boolean;
  readonly signalMsi: boolean;
  readonly msiDevid: boolean;
  readonly pit2: boolean;
  readonly pitState2: boolean;
  readonly vcpuEvents: boolean;
  readonly debugregs: boolean;
  readonly xsave: boolean;
  readonly xsave2: boolean;
  readonly xcrs: boolean;
  readonly adjustClock: boolean;
  /** KVM_CAP_ADJUST_CLOCK's value: the KVM_CLOCK_* flags KVM_GET_CLOCK can report. */
  readonly clockFlags: number;
  readonly tscControl: boolean;
  readonly vmTscControl: boolean;
  readonly tscDeadlineTimer: boolean;
  readonly setTssAddr: boolean;
  readonly setIdentityMapAddr: boolean;
  /** Recommended vCPU count (KVM_CAP_NR_VCPUS). */
  readonly nrVcpus: number;
  /** Maximum vCPU count (KVM_CAP_MAX_VCPUS; the kernel's rule: NR_VCPUS when 0). */
  readonly maxVcpus: number;
  readonly maxVcpuId: number;
  readonly nrMemslots: number;
  /** Address spaces (KVM_CAP_MULTI_ADDRESS_SPACE: 2 on x86 with SMM; 1 when absent). */
  readonly addressSpaces: number;
  readonly readonlyMem: boolean;
  readonly syncMmu: boolean;
  readonly ioeventfd: boolean;
  readonly ioeventfdAnyLength: boolean;
  /** KVM_CAP_COALESCED_MMIO's value: the page offset of the ring in the vCPU mapping (0 when absent). */
  readonly coalescedMmio: number;
  readonly coalescedPio: boolean;
  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2's value: the flags KVM_ENABLE_CAP accepts. */
  readonly manualDirtyLogProtect: number;
  /** KVM_CAP_DIRTY_LOG_RING's value: the largest ring in bytes (0 when absent). */
  readonly dirtyLogRing: number;
  readonly dirtyLogRingAcqRel: boolean;
  readonly x86UserSpaceMsr: boolean;
  readonly x86MsrFilter: boolean;
  readonly immediateExit: boolean;
  readonly mpState: boolean;
  readonly userNmi: boolean;
  readonly setGuestDebug: boolean;
  readonly intrShadow: boolean;
  readonly exceptionPayload: boolean;
  readonly x86Smm: boolean;
  readonly getMsrFeatures: boolean;
  readonly x2apicApi: boolean;
  readonly enableCapVm: boolean;
  readonly checkExtensionVm: boolean;
}

/** Reads every capability of {@link KvmCapabilities} from a backend's checkExtension. */
export function readCapabilities(backend: Pick<KvmBackend, "checkExtension">): KvmCapabilities {
  const value = (cap: number) => backend.checkExtension(cap);
  const has = (cap: number) => value(cap) > 0;
  const nrVcpus = value(KVM_CAP.NR_VCPUS);
  const maxVcpus = value(KVM_CAP.MAX_VCPUS);
  const maxVcpuId = value(KVM_CAP.MAX_VCPU_ID);
  const addressSpaces = value(KVM_CAP.MULTI_ADDRESS_SPACE);
  return {
    irqchip: has(KVM_CAP.IRQCHIP),
    splitIrqchip: has(KVM_CAP.SPLIT_IRQCHIP),
    irqfd: has(KVM_CAP.IRQFD),
    irqfdResample: has(KVM_CAP.IRQFD_RESAMPLE),
    irqRouting: has(KVM_CAP.IRQ_ROUTING),
    gsiCount: value(KVM_CAP.IRQ_ROUTING),
    irqInjectStatus: has(KVM_CAP.IRQ_INJECT_STATUS),
    signalMsi: has(KVM_CAP.SIGNAL_MSI),
    msiDevid: has(KVM_CAP.MSI_DEVID),
    pit2: has(KVM_CAP.PIT2),
    pitState2: has(KVM_CAP.PIT_STATE2),
    vcpuEvents: has(KVM_CAP.VCPU_EVENTS),
    debugregs: has(KVM_CAP.DEBUGREGS),
    xsave: has(KVM_CAP.XSAVE),
    xsave2: has(KVM_CAP.XSAVE2),
    xcrs: has(KVM_CAP.XCRS),
    adjustClock: has(KVM_CAP.ADJUST_CLOCK),
    clockFlags: value(KVM_CAP.ADJUST_CLOCK),
    tscControl: has(KVM_CAP.TSC_CONTROL),
    vmTscControl: has(KVM_CAP.VM_TSC_CONTROL),
    tscDeadlineTimer: has(KVM_CAP.TSC_DEADLINE_TIMER),
    setTssAddr: has(KVM_CAP.SET_TSS_ADDR),
    setIdentityMapAddr: has(KVM_CAP.SET_IDENTITY_MAP_ADDR),
    nrVcpus,
    maxVcpus: maxVcpus > 0 ? maxVcpus : nrVcpus,
    maxVcpuId: maxVcpuId > 0 ? maxVcpuId : maxVcpus > 0 ? maxVcpus : nrVcpus,
    nrMemslots: value(KVM_CAP.NR_MEMSLOTS),
    addressSpaces: addressSpaces > 0 ? addressSpaces : 1,
    readonlyMem: has(KVM_CAP.READONLY_MEM),
    syncMmu: has(KVM_CAP.SYNC_MMU),
    ioeventfd: has(KVM_CAP.IOEVENTFD),
    ioeventfdAnyLength: has(KVM_CAP.IOEVENTFD_ANY_LENGTH),
    coalescedMmio: value(KVM_CAP.COALESCED_MMIO),
    coalescedPio: has(KVM_CAP.COALESCED_PIO),
    manualDirtyLogProtect: value(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2),
    dirtyLogRing: value(KVM_CAP.DIRTY_LOG_RING),
    dirtyLogRingAcqRel: has(KVM_CAP.DIRTY_LOG_RING_ACQ_REL),
    x86UserSpaceMsr: has(KVM_CAP.X86_USER_SPACE_MSR),
    x86MsrFilter: has(KVM_CAP.X86_MSR_FILTER),
    immediateExit: has(KVM_CAP.IMMEDIATE_EXIT),
    mpState: has(KVM_CAP.MP_STATE),
    userNmi: has(KVM_CAP.USER_NMI),
    setGuestDebug: has(KVM_CAP.SET_GUEST_DEBUG),
    intrShadow: has(KVM_CAP.INTR_SHADOW),
    exceptionPayload: has(KVM_CAP.EXCEPTION_PAYLOAD),
    x86Smm: has(KVM_CAP.X86_SMM),
    getMsrFeatures: has(KVM_CAP.GET_MSR_FEATURES),
    x2apicApi: has(KVM_CAP.X2APIC_API),
    enableCapVm: has(KVM_CAP.ENABLE_CAP_VM),
    checkExtensionVm: has(KVM_CAP.CHECK_EXTENSION_VM),
  };
}
