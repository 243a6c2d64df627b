import { KVM_CAP } from "@memtopo/kvm";
import { DIRTY_RING_MAX_BYTES } from "./dirty-ring.js";
import { MockKvmUsageError } from "./errors.js";
import { integerIn, u64 } from "./validate.js";

/**
 * What the simulated kernel offers. The defaults are those measured on the project's
 * x86-64 host (Linux 6.18); switch features off to emulate an older kernel.
 */
export interface MockKvmOptions {
  /** KVM_CAP_NR_MEMSLOTS: slot ids `0 .. n-1` are valid in each address space. Default 32764. */
  readonly nrMemslots?: number;
  /** KVM_CAP_READONLY_MEM: without it KVM_MEM_READONLY is an unknown flag (EINVAL). Default true. */
  readonly readonlyMem?: boolean;
  /** KVM_CAP_IOEVENTFD: without it KVM_IOEVENTFD is an unknown ioctl (ENOTTY). Default true. */
  readonly ioeventfd?: boolean;
  /** KVM_CAP_IOEVENTFD_ANY_LENGTH: without it a length-0 ioeventfd is EINVAL. Default true. */
  readonly ioeventfdAnyLength?: boolean;
  /**
   * Number of memslot address spaces (`slot >> 16` must stay below it). Default 1, which the
   * kernel reports as KVM_CAP_MULTI_ADDRESS_SPACE = 0; x86 with SMM reports 2.
   */
  readonly addressSpaces?: number;
  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 as reported (3 = enable + initially-set); 0 = absent. Default 3. */
  readonly manualDirtyLogProtect?: number;
  /** KVM_CAP_DIRTY_LOG_RING (x86 since 5.11): reported as the largest ring in bytes; false = absent. Default true. */
  readonly dirtyLogRing?: boolean;
  /** Host page size; slots must be aligned to it. Default 4096. */
  readonly hostPageSize?: number;
  /**
   * Guest physical address width: a slot's last byte must lie below 2^bits (x86
   * `kvm_mmu_max_gfn`; 52 without TDP, the host's MAXPHYADDR with it). Default 52.
   */
  readonly guestPhysBits?: number;
  /** End of the user address range a `userspace_addr` range must fit below (x86-64 4-level TASK_SIZE_MAX). */
  readonly userspaceLimit?: bigint;
  /** KVM_CHECK_EXTENSION values, by number, for capabilities the options above do not cover. */
  readonly extensions?: Readonly<Record<number, number>>;
  /**
   * The coalesced ring's room check as kernels before 6.11 compute it: unsigned
   * `(first - last - 1) % 170`, which reads a 170-entry ring as full after 85 writes while
   * `first` is low. Default false (the fixed check: 169 writes fit).
   */
  readonly coalescedRingModuloBug?: boolean;
  /**
   * Instructions a mock vCPU's run() executes without an exit before it returns an "intr"
   * exit, as a KVM_RUN interrupted by a signal (a guest spinning in `jmp $` cannot hang the
   * caller's thread). Default 1 000 000.
   */
  readonly vcpuTimeslice?: number;
}

export interface ResolvedOptions {
  readonly nrMemslots: number;
  readonly readonlyMem: boolean;
  readonly ioeventfd: boolean;
  readonly ioeventfdAnyLength: boolean;
  readonly addressSpaces: number;
  readonly manualDirtyLogProtect: number;
  readonly dirtyLogRing: boolean;
  readonly hostPageSize: number;
  readonly guestPhysBits: number;
  readonly userspaceLimit: bigint;
  readonly extensions: ReadonlyMap<number, number>;
  readonly coalescedRingModuloBug: boolean;
  readonly vcpuTimeslice: number;
}

/** Capabilities of the measured host that the options above do not cover. */
const HOST_EXTENSIONS: ReadonlyArray<readonly [number, number]> = [
  [KVM_CAP.USER_MEMORY, 1],
  [KVM_CAP.SET_TSS_ADDR, 1],
  [KVM_CAP.NR_VCPUS, 2],
  [KVM_CAP.SYNC_MMU, 1],
  [KVM_CAP.COALESCED_MMIO, 2],
  [KVM_CAP.MAX_VCPUS, 1024],
  [KVM_CAP.IMMEDIATE_EXIT, 1],
  [KVM_CAP.COALESCED_PIO, 1],
  // The vCPU and interrupt surface the mock implements (values as Linux 6.x reports them on x86).
  [KVM_CAP.IRQCHIP, 1],
  [KVM_CAP.IRQ_ROUTING, 4096],
  [KVM_CAP.IRQ_INJECT_STATUS, 1],
  [KVM_CAP.IRQFD, 1],
  [KVM_CAP.IRQFD_RESAMPLE, 1],
  [KVM_CAP.PIT2, 1],
  [KVM_CAP.PIT_STATE2, 1],
  [KVM_CAP.SIGNAL_MSI, 1],
  [KVM_CAP.ADJUST_CLOCK, 14],
  [KVM_CAP.SET_IDENTITY_MAP_ADDR, 1],
  [KVM_CAP.MP_STATE, 1],
  [KVM_CAP.VCPU_EVENTS, 1],
  [KVM_CAP.DEBUGREGS, 1],
  [KVM_CAP.XSAVE, 1],
  [KVM_CAP.XCRS, 1],
  [KVM_CAP.MAX_VCPU_ID, 4096],
];

export function resolveOptions(options: MockKvmOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new MockKvmUsageError("options must be an object", "options");
  }
  const flag = (name: keyof MockKvmOptions, fallback: boolean): boolean => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") throw new MockKvmUsageError(`expected a boolean`, `options.${name}`);
    return value;
  };
  const hostPageSize = integerIn(options.hostPageSize ?? 4096, 4096, 2 ** 30, "options.hostPageSize");
  if ((hostPageSize & (hostPageSize - 1)) !== 0) {
    throw new MockKvmUsageError(`host page size ${hostPageSize} is not a power of two`, "options.hostPageSize");
  }
  const extensions = new Map<number, number>(HOST_EXTENSIONS);
  for (const [key, value] of Object.entries(options.extensions ?? {})) {
    const cap = integerIn(Number(key), 0, 0xffff_ffff, `options.extensions.${key}`);
    extensions.set(cap, integerIn(value, -(2 ** 31), 2 ** 31 - 1, `options.extensions.${key}`));
  }
  return {
    nrMemslots: integerIn(options.nrMemslots ?? 32764, 1, 0x10000, "options.nrMemslots"),
    readonlyMem: flag("readonlyMem", true),
    ioeventfd: flag("ioeventfd", true),
    ioeventfdAnyLength: flag("ioeventfdAnyLength", true),
    coalescedRingModuloBug: flag("coalescedRingModuloBug", false),
    vcpuTimeslice: integerIn(options.vcpuTimeslice ?? 1_000_000, 1, 2 ** 31, "options.vcpuTimeslice"),
    addressSpaces: integerIn(options.addressSpaces ?? 1, 1, 0x10000, "options.addressSpaces"),
    manualDirtyLogProtect: integerIn(options.manualDirtyLogProtect ?? 3, 0, 3, "options.manualDirtyLogProtect"),
    dirtyLogRing: flag("dirtyLogRing", true),
    hostPageSize,
    guestPhysBits: integerIn(options.guestPhysBits ?? 52, 32, 64, "options.guestPhysBits"),
    userspaceLimit: u64(options.userspaceLimit ?? 0x7fff_ffff_f000n, "options.userspaceLimit"),
    extensions,
  };
}

/** KVM_CHECK_EXTENSION on the simulated VM. */
export function extensionValue(options: ResolvedOptions, cap: number): number {
  switch (cap) {
    case KVM_CAP.NR_MEMSLOTS:
      return options.nrMemslots;
    case KVM_CAP.READONLY_MEM:
      return options.readonlyMem ? 1 : 0;
    case KVM_CAP.IOEVENTFD:
      return options.ioeventfd ? 1 : 0;
    case KVM_CAP.IOEVENTFD_ANY_LENGTH:
      return options.ioeventfd && options.ioeventfdAnyLength ? 1 : 0;
    case KVM_CAP.MULTI_ADDRESS_SPACE:
      // A kernel built for a single address space does not advertise the capability at all.
      return options.addressSpaces > 1 ? options.addressSpaces : 0;
    case KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2:
      return options.manualDirtyLogProtect;
    case KVM_CAP.DIRTY_LOG_RING:
      return options.dirtyLogRing ? DIRTY_RING_MAX_BYTES : 0;
    default:
      return options.extensions.get(cap) ?? 0;
  }
}
