import type { EventNotifier } from "@memtopo/region-tree";

/**
 * The VM-level KVM operations memtopo needs, one method per ioctl. This is the seam
 * between the memory listener and a kernel: `@memtopo/kvm-mock` implements it in
 * TypeScript with the kernel's rules, `@memtopo/kvm-native` implements it on /dev/kvm.
 * Every method either succeeds or throws a {@link KvmError} carrying the errno name,
 * and a failed call changes nothing.
 */
export interface KvmBackend {
  /** A short name for messages ("mock", "native"). */
  readonly name: string;
  /** Host page size in bytes (4096 on x86-64); slots are trimmed to it. */
  readonly hostPageSize: number;
  /** KVM_CHECK_EXTENSION on the VM: 0 when absent, otherwise the capability's value. */
  checkExtension(cap: number): number;
  /** KVM_SET_USER_MEMORY_REGION: create, update flags of, or (memorySize 0) delete a slot. */
  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void;
  /** KVM_IOEVENTFD: assign, or with {@link KVM_IOEVENTFD_FLAG_DEASSIGN} deassign, an ioeventfd. */
  ioeventfd(request: KvmIoeventfd): void;
  /** KVM_GET_DIRTY_LOG: the slot's dirty bitmap (one bit per page, 64-bit words, little endian); the read clears it. */
  getDirtyLog(slot: number): Uint8Array;
  /** KVM_CLEAR_DIRTY_LOG (manual dirty-log protect): re-protect the given pages of a slot. */
  clearDirtyLog?(slot: number, firstPage: bigint, numPages: number, bitmap: Uint8Array): void;
  /**
   * The KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags this VM enabled (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
   * KVM_DIRTY_LOG_INITIALLY_SET); 0 or absent: KVM_GET_DIRTY_LOG clears and re-protects by itself.
   */
  readonly dirtyLogManualProtect?: number;
  /** KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags). */
  enableDirtyLogManualProtect?(flags: number): void;
  /** KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, bytes): once, before the first vCPU. */
  enableDirtyLogRing?(bytes: number): void;
  /** Bytes of each vCPU's dirty ring (KVM_CAP_DIRTY_LOG_RING enabled); 0 or absent: no ring, bitmaps instead. */
  readonly dirtyRingSize?: number;
  /**
   * Reaps every vCPU's dirty ring: the entries the kernel published (flag DIRTY), oldest first
   * per vCPU, each marked collected (flag RESET) in the ring. The kernel re-protects them at
   * {@link resetDirtyRings}.
   */
  reapDirtyRings?(): KvmDirtyGfn[];
  /** KVM_RESET_DIRTY_RINGS: the kernel takes back the collected entries; returns how many. */
  resetDirtyRings?(): number;
  /** KVM_REGISTER_COALESCED_MMIO: guest writes inside the zone go to the ring instead of exiting. */
  registerCoalescedMmio?(zone: KvmCoalescedMmioZone): void;
  /** KVM_UNREGISTER_COALESCED_MMIO: removes every zone of that bus that holds all of `zone`. */
  unregisterCoalescedMmio?(zone: KvmCoalescedMmioZone): void;
  /** Drains the coalesced ring: the held-back writes, oldest first. */
  takeCoalescedWrites?(): KvmCoalescedWrite[];
  /**
   * The live memslots, as plain objects ordered by address space, then guest address: what the kernel holds after
   * every successful KVM_SET_USER_MEMORY_REGION (the kernel itself has no call that lists them).
   */
  memslots?(): KvmMemslot[];
}

/** A live memslot: the last successful KVM_SET_USER_MEMORY_REGION of its `slot` with a non-zero size. */
export interface KvmMemslot {
  /** The `slot` field: `id | asId << 16`. */
  readonly slot: number;
  readonly asId: number;
  readonly id: number;
  readonly guestPhysAddr: bigint;
  readonly memorySize: bigint;
  readonly userspaceAddr: bigint;
  readonly flags: number;
}

/** `struct kvm_dirty_gfn` as reaped: a page of a slot that the guest dirtied. */
export interface KvmDirtyGfn {
  /** The `slot` field: `id | asId << 16`. */
  readonly slot: number;
  /** Page number within the slot. */
  readonly offset: bigint;
}

/** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags. */
export const KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1;
export const KVM_DIRTY_LOG_INITIALLY_SET = 2;

/** `struct kvm_dirty_gfn` flags: published by the kernel, collected by userspace. */
export const KVM_DIRTY_GFN_F_DIRTY = 1;
export const KVM_DIRTY_GFN_F_RESET = 2;
/** Bytes of one `struct kvm_dirty_gfn`. */
export const KVM_DIRTY_GFN_SIZE = 16;

/** `struct kvm_coalesced_mmio_zone`: `size` is 32 bits; `pio` marks a port I/O zone. */
export interface KvmCoalescedMmioZone {
  readonly addr: bigint;
  readonly size: number;
  readonly pio: boolean;
}

/** `struct kvm_coalesced_mmio`: one write the kernel held back in the ring. */
export interface KvmCoalescedWrite {
  readonly physAddr: bigint;
  readonly data: Uint8Array;
  readonly pio: boolean;
}

/** `struct kvm_userspace_memory_region`. `slot` carries the KVM address space id in bits 16 and up. */
export interface KvmUserspaceMemoryRegion {
  readonly slot: number;
  readonly flags: number;
  readonly guestPhysAddr: bigint;
  readonly memorySize: bigint;
  readonly userspaceAddr: bigint;
}

/** `struct kvm_ioeventfd`, with the eventfd given as the notifier that owns it. */
export interface KvmIoeventfd {
  readonly datamatch: bigint;
  readonly addr: bigint;
  /** 0 (any length, needs KVM_CAP_IOEVENTFD_ANY_LENGTH), 1, 2, 4 or 8. */
  readonly len: number;
  readonly notifier: EventNotifier;
  readonly flags: number;
}

export const KVM_MEM_LOG_DIRTY_PAGES = 1;
export const KVM_MEM_READONLY = 2;

export const KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
export const KVM_IOEVENTFD_FLAG_PIO = 2;
export const KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

/** Capability numbers from linux/kvm.h. */
export const KVM_CAP = {
  IRQCHIP: 0,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  NR_VCPUS: 9,
  NR_MEMSLOTS: 10,
  PIT: 11,
  MP_STATE: 14,
  COALESCED_MMIO: 15,
  SYNC_MMU: 16,
  USER_NMI: 22,
  SET_GUEST_DEBUG: 23,
  IRQ_ROUTING: 25,
  IRQ_INJECT_STATUS: 26,
  IRQFD: 32,
  PIT2: 33,
  PIT_STATE2: 35,
  IOEVENTFD: 36,
  SET_IDENTITY_MAP_ADDR: 37,
  ADJUST_CLOCK: 39,
  VCPU_EVENTS: 41,
  INTR_SHADOW: 49,
  DEBUGREGS: 50,
  XSAVE: 55,
  XCRS: 56,
  TSC_CONTROL: 60,
  MAX_VCPUS: 66,
  TSC_DEADLINE_TIMER: 72,
  SIGNAL_MSI: 77,
  READONLY_MEM: 81,
  IRQFD_RESAMPLE: 82,
  ENABLE_CAP_VM: 98,
  CHECK_EXTENSION_VM: 105,
  X86_SMM: 117,
  MULTI_ADDRESS_SPACE: 118,
  SPLIT_IRQCHIP: 121,
  IOEVENTFD_ANY_LENGTH: 122,
  MAX_VCPU_ID: 128,
  X2APIC_API: 129,
  MSI_DEVID: 131,
  IMMEDIATE_EXIT: 136,
  GET_MSR_FEATURES: 153,
  COALESCED_PIO: 162,
  EXCEPTION_PAYLOAD: 164,
  MANUAL_DIRTY_LOG_PROTECT2: 168,
  X86_USER_SPACE_MSR: 188,
  X86_MSR_FILTER: 189,
  DIRTY_LOG_RING: 192,
  XSAVE2: 208,
  VM_TSC_CONTROL: 214,
  DIRTY_LOG_RING_ACQ_REL: 223,
} as const;
