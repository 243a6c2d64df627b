import {
  type CpuidEntry,
  KVM_CAP,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  type KvmBackend,
  type KvmCoalescedMmioZone,
  type KvmCoalescedWrite,
  type KvmDirtyGfn,
  KvmError,
  type KvmIoeventfd,
  type KvmMemslot,
  type KvmSystemState,
  type KvmUserspaceMemoryRegion,
  type KvmVm,
  type MsrExitReason,
} from "@memtopo/kvm";
import { describeValue } from "@memtopo/region-tree";
import type { NativeBinding, NativeLayout, NativeVm } from "./binding.js";
import { CoalescedRing } from "./coalesced-ring.js";
import { NativeDirtyRings } from "./dirty-ring.js";
import { native } from "./errors.js";
import { EventFdNotifier } from "./event-notifier.js";
import { NativeInterrupts } from "./interrupts/native-interrupts.js";
import { NativeVmMethods } from "./interrupts/vm-methods.js";
import { manualProtectFlagsOffered } from "./manual-protect.js";
import { MemslotMirror } from "./memslot-mirror.js";
import { encodeMsrFilter, type MsrFilter, msrExitMask } from "./msr-exits.js";
import { bindingOrReason, DEFAULT_KVM_DEVICE } from "./probe.js";
import { attachRamAllocator, NativeRamAllocator } from "./ram.js";
import { Vcpu } from "./vcpu.js";
import { KvmSystemReads } from "./vcpu-state/system.js";

export interface NativeKvmOptions {
  /** The KVM device, "/dev/kvm" unless told. */
  readonly devicePath?: string;
  /** A binding to use instead of the package's own binary (a custom build). */
  readonly nativeBinding?: NativeBinding;
  /**
   * Enable KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with what the kernel offers of ENABLE and INITIALLY_SET
   * (as QEMU does): getDirtyLog then only reads the bitmap, and clearDirtyLog clears and re-protects
   * the pages it names.
   */
  readonly manualDirtyLogProtect?: boolean;
}

/**
 * A KVM VM on /dev/kvm, implementing {@link KvmBackend}, plus the guest RAM
 * allocator, eventfds and vCPUs that go with it. Memslots may only point into live RAM
 * of this VM: from {@link ramAllocator}, or from an allocator it adopted
 * ({@link adoptRam}); the addon refuses released blocks (E_RAM_RELEASED) and other VMs'
 * (E_RAM_FOREIGN). That RAM stays mapped while a memslot uses it, whatever the garbage
 * collector does.
 */
export class NativeKvm extends NativeVmMethods implements KvmBackend, KvmVm, KvmSystemState {
  readonly name = "native";
  readonly hostPageSize: number;
  /** Guest RAM for this VM: `new MemorySystem({ ramAllocator: vm.ramAllocator })`. */
  readonly ramAllocator: NativeRamAllocator;
  readonly layout: NativeLayout;
  readonly #binding: NativeBinding;
  readonly #vm: NativeVm;
  readonly #system: KvmSystemReads;
  readonly #vcpus = new Set<Vcpu>();
  /** The coalesced ring as each open vCPU maps it (the same page through every vCPU). */
  readonly #rings = new Map<Vcpu, CoalescedRing>();
  readonly #notifiers = new Set<EventFdNotifier>();
  readonly #memslots = new MemslotMirror();
  readonly #dirtyRings = new NativeDirtyRings();
  #dirtyRingSize = 0;
  #manualProtect = 0;
  #closed = false;

  private constructor(binding: NativeBinding, vm: NativeVm, devicePath: string) {
    super(new NativeInterrupts(vm, binding.layout.irq));
    this.#system = new KvmSystemReads(binding, binding.layout.vcpuState, devicePath);
    this.#binding = binding;
    this.#vm = vm;
    this.layout = binding.layout;
    this.hostPageSize = binding.pageSize();
    this.ramAllocator = new NativeRamAllocator(binding);
    attachRamAllocator(this.ramAllocator, { vm });
  }

  /** Opens the device and creates a VM; throws a KvmError (code = errno name or probe reason) when it cannot. */
  static open(options: NativeKvmOptions = {}): NativeKvm {
    const binding = bindingOrReason(options.nativeBinding);
    if (!("layout" in binding)) throw new KvmError(binding.reason, "open", binding.detail);
    const devicePath = options.devicePath ?? DEFAULT_KVM_DEVICE;
    const vm = native("KVM_CREATE_VM", () => new binding.Vm(devicePath));
    const kvm = new NativeKvm(binding, vm, devicePath);
    if (options.manualDirtyLogProtect === true) {
      try {
        kvm.enableDirtyLogManualProtect(
          manualProtectFlagsOffered(kvm.checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2)),
        );
      } catch (error) {
        vm.close();
        throw error;
      }
    }
    return kvm;
  }

  checkExtension(cap: number): number {
    return native("KVM_CHECK_EXTENSION", () => this.#vm.checkExtension(cap));
  }

  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void {
    const r = object(region, "KVM_SET_USER_MEMORY_REGION", "region");
    // Read once: what is mirrored must be what the kernel was given.
    const { slot, flags, guestPhysAddr, memorySize, userspaceAddr } = r;
    native("KVM_SET_USER_MEMORY_REGION", () =>
      this.#vm.setUserMemoryRegion(slot, flags, guestPhysAddr, memorySize, userspaceAddr),
    );
    this.#memslots.accepted(slot, flags, BigInt(guestPhysAddr), BigInt(memorySize), BigInt(userspaceAddr));
  }

  /**
   * Makes the blocks of a VM-less allocator (`nativeRamAllocator()`), those it made and
   * those it makes later, RAM of this VM: memslots may then point into them here, and
   * in no other VM (E_RAM_FOREIGN). Again for this VM is a no-op; for an allocator that
   * belongs to another VM (or is another VM's `ramAllocator`) it throws E_RAM_FOREIGN.
   * The blocks stay the caller's to release (close releases only `ramAllocator`'s).
   */
  adoptRam(allocator: NativeRamAllocator): void {
    if (!(allocator instanceof NativeRamAllocator)) {
      throw new KvmError("EINVAL", "adoptRam", "allocator must be a NativeRamAllocator (nativeRamAllocator())");
    }
    attachRamAllocator(allocator, { vm: this.#vm });
  }

  /** The live memslots, as on every backend (see {@link KvmBackend.memslots}). */
  memslots(): KvmMemslot[] {
    return this.#memslots.list();
  }

  ioeventfd(request: KvmIoeventfd): void {
    const r = object(request, "KVM_IOEVENTFD", "request");
    const fd = (r.notifier as { fd?: unknown } | null | undefined)?.fd;
    if (typeof fd !== "number") {
      throw new KvmError("EBADF", "KVM_IOEVENTFD", "request.notifier has no eventfd (use vm.createEventNotifier())");
    }
    native("KVM_IOEVENTFD", () => this.#vm.ioeventfd(r.addr, r.len, fd, r.flags, r.datamatch));
  }

  registerCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    const z = coalescedZone(zone, "KVM_REGISTER_COALESCED_MMIO");
    native("KVM_REGISTER_COALESCED_MMIO", () => this.#vm.registerCoalescedMmio(z.addr, z.size, z.pio));
  }

  unregisterCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    const z = coalescedZone(zone, "KVM_UNREGISTER_COALESCED_MMIO");
    native("KVM_UNREGISTER_COALESCED_MMIO", () => this.#vm.unregisterCoalescedMmio(z.addr, z.size, z.pio));
  }

  /** Drains the coalesced ring through any open vCPU's mapping; none before a vCPU exists (no guest has run). */
  takeCoalescedWrites(): KvmCoalescedWrite[] {
    const ring = this.#rings.values().next().value;
    return ring === undefined ? [] : ring.drain();
  }

  getDirtyLog(slot: number): Uint8Array {
    return native("KVM_GET_DIRTY_LOG", () => this.#vm.getDirtyLog(slot));
  }

  clearDirtyLog(slot: number, firstPage: bigint, numPages: number, bitmap: Uint8Array): void {
    native("KVM_CLEAR_DIRTY_LOG", () => this.#vm.clearDirtyLog(slot, firstPage, numPages, bitmap));
  }

  /** The KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags enabled (see {@link KvmBackend.dirtyLogManualProtect}). */
  get dirtyLogManualProtect(): number {
    return this.#manualProtect;
  }

  /**
   * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags): ENABLE, and INITIALLY_SET where
   * `checkExtension(KVM_CAP.MANUAL_DIRTY_LOG_PROTECT2)` reports it, as QEMU enables both (a slot
   * that starts logging then reports every page dirty once, unprotected until cleared).
   */
  enableDirtyLogManualProtect(flags: number): void {
    if (
      typeof flags !== "number" ||
      !Number.isInteger(flags) ||
      (flags & ~(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET)) !== 0
    ) {
      throw new KvmError(
        "EINVAL",
        "KVM_ENABLE_CAP",
        `manual protect flags are a mask of KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (1) and KVM_DIRTY_LOG_INITIALLY_SET (2), got ${describeValue(flags)}`,
      );
    }
    native("KVM_ENABLE_CAP", () => this.#vm.enableManualDirtyLogProtect(flags));
    this.#manualProtect = flags;
  }

  /** Bytes of each vCPU's dirty ring; 0 until {@link enableDirtyLogRing}. */
  get dirtyRingSize(): number {
    return this.#dirtyRingSize;
  }

  /**
   * KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, bytes): the kernel takes a power of two of at least a
   * page and at most `checkExtension(KVM_CAP.DIRTY_LOG_RING)`, once, before the first vCPU;
   * every vCPU created afterwards maps its ring.
   */
  enableDirtyLogRing(bytes: number): void {
    native("KVM_ENABLE_CAP", () => this.#vm.enableDirtyLogRing(bytes));
    this.#dirtyRingSize = bytes;
  }

  /** Reaps every open vCPU's ring (see {@link KvmBackend.reapDirtyRings}). */
  reapDirtyRings(): KvmDirtyGfn[] {
    this.#assertOpen("reapDirtyRings");
    return this.#dirtyRings.reap();
  }

  /** KVM_RESET_DIRTY_RINGS. */
  resetDirtyRings(): number {
    return native("KVM_RESET_DIRTY_RINGS", () => this.#vm.resetDirtyRings());
  }

  /** A new eventfd-backed notifier for ioeventfds; closed with the VM. */
  createEventNotifier(): EventFdNotifier {
    this.#assertOpen("createEventNotifier");
    const notifier = new EventFdNotifier(this.#binding);
    this.#notifiers.add(notifier);
    return notifier;
  }

  /**
   * KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR): guest RDMSR/WRMSR that fail for one of
   * `reasons` become "x86-rdmsr"/"x86-wrmsr" exits, which a runVcpu hook answers.
   */
  enableUserSpaceMsr(reasons: readonly MsrExitReason[]): void {
    const mask = msrExitMask(this.layout, reasons);
    native("KVM_ENABLE_CAP", () => this.#vm.enableUserSpaceMsr(mask));
  }

  /** KVM_X86_SET_MSR_FILTER: which MSR accesses the kernel handles, the others are denied ("filter" exits). */
  setMsrFilter(filter: MsrFilter): void {
    const { flags, ranges, bitmaps } = encodeMsrFilter(filter);
    native("KVM_X86_SET_MSR_FILTER", () => this.#vm.setMsrFilter(flags, ranges, bitmaps));
  }

  // The KVM device's reads (KvmSystemState), for building vCPUs: see KvmSystemReads.
  getSupportedCpuid(): CpuidEntry[] {
    return this.#system.getSupportedCpuid();
  }
  getEmulatedCpuid(): CpuidEntry[] {
    return this.#system.getEmulatedCpuid();
  }
  getMsrIndexList(): number[] {
    return this.#system.getMsrIndexList();
  }
  getMsrFeatureIndexList(): number[] {
    return this.#system.getMsrFeatureIndexList();
  }

  createVcpu(id: number): Vcpu {
    this.interrupts.placeDefaults();
    const nativeVcpu = native("KVM_CREATE_VCPU", () => this.#vm.createVcpu(id));
    const vcpu = new Vcpu(id, nativeVcpu, this.layout, () => {
      this.#vcpus.delete(vcpu);
      this.#rings.delete(vcpu);
      this.#dirtyRings.remove(id);
    });
    this.#vcpus.add(vcpu);
    this.#dirtyRings.add(id, nativeVcpu);
    const pageOffset = this.#vm.checkExtension(KVM_CAP.COALESCED_MMIO);
    const buffer = native("mmap kvm_run", () => nativeVcpu.runBuffer());
    if (CoalescedRing.fits(buffer, pageOffset, this.hostPageSize)) {
      this.#rings.set(vcpu, new CoalescedRing(buffer, pageOffset, this.hostPageSize, this.layout.coalescedRing));
    }
    return vcpu;
  }

  /**
   * Closes vCPUs, deletes every memslot, closes the VM, then releases its RAM and
   * eventfds. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const vcpu of [...this.#vcpus]) vcpu.close();
    this.#vm.close();
    this.#memslots.clear();
    this.ramAllocator.releaseAll();
    for (const notifier of this.#notifiers) notifier.close();
    this.#notifiers.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new KvmError("EBADF", operation, "the VM is closed");
  }
}

function coalescedZone(zone: KvmCoalescedMmioZone, operation: string): { addr: bigint; size: number; pio: number } {
  const z = object(zone, operation, "zone");
  if (typeof z.pio !== "boolean") throw new KvmError("EINVAL", operation, "zone.pio must be a boolean");
  return { addr: z.addr, size: z.size, pio: z.pio ? 1 : 0 };
}

function object<T>(value: T, operation: string, name: string): T {
  if (typeof value !== "object" || value === null) throw new KvmError("EINVAL", operation, `${name} must be an object`);
  return value;
}
