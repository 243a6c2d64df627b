import {
  type ClockData,
  type CpuidEntry,
  type GsiRoute,
  type IrqchipId,
  type IrqchipState,
  type IrqStatus,
  type KvmCapabilities,
  type KvmCoalescedMmioZone,
  type KvmCoalescedWrite,
  type KvmDirtyGfn,
  type KvmIoeventfd,
  type KvmIrqfd,
  type KvmSystemState,
  type KvmUserspaceMemoryRegion,
  type KvmVm,
  type MsiMessage,
  type PitState,
  readCapabilities,
} from "@memtopo/kvm";
import type { EventNotifier, RamAllocator, RamBacking } from "@memtopo/region-tree";
import { CoalescedZones, type MockCoalescedZone } from "./coalesced.js";
import { clearDirtyLog, type DirtyLogMode, enableManualProtect, getDirtyLog, initiallySet } from "./dirty-log.js";
import { MockDirtyRings } from "./dirty-ring.js";
import { kernelError, MockKvmUsageError } from "./errors.js";
import { type GuestContext, type GuestWriteResult, guestPioWrite, guestRead, guestWrite, storeBytes } from "./guest.js";
import { HostMemory } from "./host-memory.js";
import { IoeventfdTable, type MockIoeventfd } from "./ioeventfds.js";
import { MockInterrupts, type MockIrqfd } from "./irq/interrupts.js";
import { MemslotTable, type MockMemslot } from "./memslots.js";
import { MockVcpu } from "./mock-vcpu.js";
import { MockEventNotifier } from "./notifier.js";
import { extensionValue, type MockKvmOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { CallRecorder, type KvmCall, type KvmMethod, type PendingCall } from "./recorder.js";
import { type IoeventfdSnapshot, ioeventfdSnapshot, type SlotSnapshot, slotSnapshot } from "./snapshot.js";
import { integerIn, oneOf, u32, u64 } from "./validate.js";
import { MSR_INDEX_LIST } from "./vcpu/msrs.js";
import { EMULATED_CPUID, SUPPORTED_CPUID } from "./vcpu/supported-cpuid.js";

/** `KVM_MAX_VCPU_IDS` on x86 (KVM_CAP_MAX_VCPU_ID). */
const MAX_VCPU_IDS = 4096;
/** `KVM_MAX_VCPUS` (KVM_CAP_MAX_VCPUS). */
const MAX_VCPUS = 1024;

/**
 * A {@link KvmVm} in pure TypeScript that enforces what the Linux kernel enforces,
 * failing with the kernel's errno, and changes nothing when a call fails. It records every
 * call, can be told to fail chosen calls, simulates guest writes that dirty pages, hit
 * ioeventfds or exit to userspace, and runs guest code on its vCPUs (a real-mode x86
 * interpreter) with an in-kernel PIC, IOAPIC and PIT.
 */
export class MockKvm implements KvmVm, KvmSystemState {
  readonly name = "mock";
  readonly hostPageSize: number;
  readonly #options: ResolvedOptions;
  readonly #slots: MemslotTable;
  readonly #ioeventfds: IoeventfdTable;
  readonly #coalesced: CoalescedZones;
  readonly #memory = new HostMemory();
  readonly #recorder = new CallRecorder();
  readonly #notifiers = new WeakSet<EventNotifier>();
  #nextNotifierId = 1;
  readonly #interrupts: MockInterrupts;
  /** vCPUs by id; a closed vCPU keeps its id taken, as in the kernel (it lives until the VM goes). */
  readonly #vcpus = new Map<number, MockVcpu>();
  readonly #dirtyLog: DirtyLogMode = { manualProtect: 0, rings: new MockDirtyRings() };
  /** The VM's virtual clock (ns): mock vCPUs move it on as they run, the PIT and kvmclock read it. */
  #clockNs = 0;
  #closed = false;

  constructor(options: MockKvmOptions = {}) {
    this.#options = resolveOptions(options);
    this.hostPageSize = this.#options.hostPageSize;
    this.#slots = new MemslotTable(this.#options);
    this.#slots.startsAllDirty = () => this.#dirtyLog.rings.bytes === 0 && initiallySet(this.#dirtyLog);
    this.#ioeventfds = new IoeventfdTable(this.#options, (n) => this.#notifiers.has(n));
    this.#coalesced = new CoalescedZones(this.hostPageSize, this.#options.coalescedRingModuloBug);
    this.#interrupts = new MockInterrupts({
      createdVcpus: () => this.#vcpus.size,
      ownsNotifier: (n) => this.#notifiers.has(n),
      now: () => this.#clockNs,
      apicIds: () => [...this.#vcpus.keys()],
    });
  }

  capabilities(): KvmCapabilities {
    return readCapabilities(this);
  }

  /**
   * KVM_CREATE_VCPU: a vCPU in the reset state (real mode at F000:FFF0). Ids at or above
   * KVM_MAX_VCPU_IDS and a VM at KVM_MAX_VCPUS are EINVAL, an id in use EEXIST.
   */
  createVcpu(id: number): MockVcpu {
    const i = u32(id, "id");
    return this.#call("createVcpu", [i], "KVM_CREATE_VCPU", () => {
      if (i >= MAX_VCPU_IDS)
        throw kernelError("EINVAL", "KVM_CREATE_VCPU", `id ${i} is not below KVM_MAX_VCPU_IDS (${MAX_VCPU_IDS})`);
      if (this.#vcpus.size >= MAX_VCPUS)
        throw kernelError("EINVAL", "KVM_CREATE_VCPU", `the VM has KVM_MAX_VCPUS (${MAX_VCPUS}) vCPUs`);
      if (this.#vcpus.has(i)) throw kernelError("EEXIST", "KVM_CREATE_VCPU", `vCPU ${i} exists already`);
      const vcpu = new MockVcpu(i, {
        guest: () => this.#guest(i),
        interrupts: this.#interrupts,
        now: () => this.#clockNs,
        advanceClock: (ns) => {
          this.#clockNs += ns;
        },
        timeslice: this.#options.vcpuTimeslice,
        lapicInKernel: this.#interrupts.hasIrqchip,
        call: (method, args, op, body) => this.#call(method, args, op, body),
        readPhys: (gpa) => {
          const bytes = guestRead(this.#guest(), 0, gpa, 8);
          return bytes === null ? null : new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
        },
        dirtyRingFull: () => this.#dirtyLog.rings.bytes !== 0 && this.#dirtyLog.rings.softFull(i),
      });
      this.#vcpus.set(i, vcpu);
      this.#dirtyLog.rings.addVcpu(i);
      return vcpu;
    });
  }

  createIrqchip(): void {
    this.#call("createIrqchip", [], "KVM_CREATE_IRQCHIP", () => this.#interrupts.createIrqchip());
  }

  getIrqchip(chip: IrqchipId): IrqchipState {
    return this.#call("getIrqchip", [chip], "KVM_GET_IRQCHIP", () => this.#interrupts.getIrqchip(chip));
  }

  setIrqchip(state: IrqchipState): void {
    this.#call("setIrqchip", [state], "KVM_SET_IRQCHIP", () => this.#interrupts.setIrqchip(state));
  }

  createPit2(flags = 0): void {
    this.#call("createPit2", [flags], "KVM_CREATE_PIT2", () => this.#interrupts.createPit2(flags));
  }

  getPit2(): PitState {
    return this.#call("getPit2", [], "KVM_GET_PIT2", () => this.#interrupts.getPit2());
  }

  setPit2(state: PitState): void {
    this.#call("setPit2", [state], "KVM_SET_PIT2", () => this.#interrupts.setPit2(state));
  }

  irqLine(gsi: number, level: boolean): IrqStatus {
    return this.#call("irqLine", [gsi, level], "KVM_IRQ_LINE_STATUS", () => this.#interrupts.irqLine(gsi, level));
  }

  irqfd(request: KvmIrqfd): void {
    this.#call("irqfd", [request], "KVM_IRQFD", () => this.#interrupts.irqfd(request));
  }

  setGsiRouting(routes: readonly GsiRoute[]): void {
    this.#call("setGsiRouting", [routes], "KVM_SET_GSI_ROUTING", () => this.#interrupts.setGsiRouting(routes));
  }

  signalMsi(message: MsiMessage): IrqStatus {
    return this.#call("signalMsi", [message], "KVM_SIGNAL_MSI", () => this.#interrupts.signalMsi(message));
  }

  getClock(): ClockData {
    return this.#call("getClock", [], "KVM_GET_CLOCK", () => this.#interrupts.getClock());
  }

  setClock(data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>): void {
    this.#call("setClock", [data], "KVM_SET_CLOCK", () => this.#interrupts.setClock(data));
  }

  setIdentityMapAddr(addr: bigint): void {
    this.#call("setIdentityMapAddr", [addr], "KVM_SET_IDENTITY_MAP_ADDR", () =>
      this.#interrupts.setIdentityMapAddr(addr),
    );
  }

  setTssAddr(addr: bigint): void {
    this.#call("setTssAddr", [addr], "KVM_SET_TSS_ADDR", () => this.#interrupts.setTssAddr(addr));
  }

  /** The GSI routing table in force (KVM_CREATE_IRQCHIP's default one until KVM_SET_GSI_ROUTING). */
  gsiRoutes(): GsiRoute[] {
    return [...this.#interrupts.routes];
  }

  /** Live irqfds in assignment order. */
  irqfds(): MockIrqfd[] {
    return [...this.#interrupts.irqfds];
  }

  /** The VM's virtual clock in ns: mock vCPUs move it on (1 ns an instruction; a halted one skips to the next timer). */
  get virtualTime(): number {
    return this.#clockNs;
  }

  /** KVM_GET_SUPPORTED_CPUID: a plausible Intel x86-64 host as KVM filters it (see SUPPORTED_CPUID). */
  getSupportedCpuid(): CpuidEntry[] {
    return this.#call("getSupportedCpuid", [], "KVM_GET_SUPPORTED_CPUID", () => SUPPORTED_CPUID.map((e) => ({ ...e })));
  }

  /** KVM_GET_EMULATED_CPUID. */
  getEmulatedCpuid(): CpuidEntry[] {
    return this.#call("getEmulatedCpuid", [], "KVM_GET_EMULATED_CPUID", () => EMULATED_CPUID.map((e) => ({ ...e })));
  }

  /** KVM_GET_MSR_INDEX_LIST: the MSRs mock vCPUs have. */
  getMsrIndexList(): number[] {
    return this.#call("getMsrIndexList", [], "KVM_GET_MSR_INDEX_LIST", () => [...MSR_INDEX_LIST]);
  }

  /** KVM_GET_MSR_FEATURE_INDEX_LIST: none (the mock has no feature MSRs). */
  getMsrFeatureIndexList(): number[] {
    return this.#call("getMsrFeatureIndexList", [], "KVM_GET_MSR_FEATURE_INDEX_LIST", () => []);
  }

  /** Closes the vCPUs and the VM: every later call fails with EBADF. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const vcpu of this.#vcpus.values()) vcpu.close();
    this.#closed = true;
  }

  /** Records one call, refusing it with EBADF once the VM is closed. */
  #call<T>(method: KvmMethod, args: readonly unknown[], operation: string, body: () => T): T {
    return this.#recorder.run(method, args, operation, () => {
      if (this.#closed) throw kernelError("EBADF", operation, "the VM is closed");
      return body();
    });
  }

  checkExtension(cap: number): number {
    const c = u32(cap, "cap");
    return this.#recorder.run("checkExtension", [c], "KVM_CHECK_EXTENSION", () => extensionValue(this.#options, c));
  }

  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void {
    const r = readRegion(region);
    this.#recorder.run("setUserMemoryRegion", [r], "KVM_SET_USER_MEMORY_REGION", () => this.#slots.set(r));
  }

  ioeventfd(request: KvmIoeventfd): void {
    const r = readIoeventfd(request);
    this.#recorder.run("ioeventfd", [r], "KVM_IOEVENTFD", () => this.#ioeventfds.apply(r));
  }

  getDirtyLog(slot: number): Uint8Array {
    const s = u32(slot, "slot");
    const bitmap = this.#recorder.run("getDirtyLog", [s], "KVM_GET_DIRTY_LOG", () =>
      getDirtyLog(this.#slots, this.#options, this.#dirtyLog, s),
    );
    return bitmap.slice();
  }

  clearDirtyLog(slot: number, firstPage: bigint, numPages: number, bitmap: Uint8Array): void {
    const s = u32(slot, "slot");
    const first = u64(firstPage, "firstPage");
    const count = u32(numPages, "numPages");
    if (!(bitmap instanceof Uint8Array)) throw new MockKvmUsageError("expected a Uint8Array", "bitmap");
    const copy = bitmap.slice();
    this.#recorder.run("clearDirtyLog", [s, first, count, copy], "KVM_CLEAR_DIRTY_LOG", () =>
      clearDirtyLog(this.#slots, this.#options, this.#dirtyLog, s, first, count, copy),
    );
  }

  /** The KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags enabled (0 until {@link enableDirtyLogManualProtect}). */
  get dirtyLogManualProtect(): number {
    return this.#dirtyLog.manualProtect;
  }

  /** Bytes of each vCPU's dirty ring; 0 until {@link enableDirtyLogRing}. */
  get dirtyRingSize(): number {
    return this.#dirtyLog.rings.bytes;
  }

  /**
   * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags): with ENABLE, KVM_GET_DIRTY_LOG no
   * longer clears; with INITIALLY_SET too, a slot that starts logging starts all dirty.
   */
  enableDirtyLogManualProtect(flags: number): void {
    const f = integerIn(flags, 0, 0xffff_ffff, "flags");
    this.#call("enableDirtyLogManualProtect", [f], "KVM_ENABLE_CAP", () =>
      enableManualProtect(this.#dirtyLog, this.#options, f),
    );
  }

  /** KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, bytes): once, before any vCPU; a power of two of at least a page. */
  enableDirtyLogRing(bytes: number): void {
    const b = integerIn(bytes, 0, 0xffff_ffff, "bytes");
    this.#call("enableDirtyLogRing", [b], "KVM_ENABLE_CAP", () => {
      if (!this.#options.dirtyLogRing)
        throw kernelError("EINVAL", "KVM_ENABLE_CAP", "KVM_CAP_DIRTY_LOG_RING is not supported");
      this.#dirtyLog.rings.enable(b, this.#vcpus.size, this.hostPageSize);
    });
  }

  /** Collects every vCPU ring's published entries (what userspace does through the mmap'd rings). */
  reapDirtyRings(): KvmDirtyGfn[] {
    return this.#call("reapDirtyRings", [], "reap dirty rings", () => this.#dirtyLog.rings.reap());
  }

  /** KVM_RESET_DIRTY_RINGS. */
  resetDirtyRings(): number {
    return this.#call("resetDirtyRings", [], "KVM_RESET_DIRTY_RINGS", () => this.#dirtyLog.rings.reset(this.#slots));
  }

  /** A new eventfd stand-in that this VM accepts in {@link ioeventfd} (others fail with EBADF). */
  registerCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    const z = readZone(zone);
    this.#recorder.run("registerCoalescedMmio", [z], "KVM_REGISTER_COALESCED_MMIO", () => this.#coalesced.register(z));
  }

  unregisterCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    const z = readZone(zone);
    this.#recorder.run("unregisterCoalescedMmio", [z], "KVM_UNREGISTER_COALESCED_MMIO", () =>
      this.#coalesced.unregister(z),
    );
  }

  /** The writes coalesced zones held back, oldest first; the ring is then empty (it is shared memory, not an ioctl). */
  takeCoalescedWrites(): KvmCoalescedWrite[] {
    return this.#coalesced.drain();
  }

  createEventNotifier(): MockEventNotifier {
    const notifier = new MockEventNotifier(this.#nextNotifierId++, (n) => this.#interrupts.signalled(n));
    this.#notifiers.add(notifier);
    return notifier;
  }

  /** A RamAllocator (wrapping `inner`, by default region-tree's lazy one) whose bytes guest writes reach. */
  ramAllocator(inner?: RamAllocator): RamAllocator {
    return this.#memory.allocator(inner);
  }

  /** Lets guest accesses reach a block allocated elsewhere. */
  registerHostMemory(block: RamBacking): void {
    this.#memory.register(block);
  }

  /** Bytes the blocks of {@link ramAllocator} gave back with `discard` (what a real discard takes off the RSS). */
  get discardedRamBytes(): bigint {
    return this.#memory.discardedBytes;
  }

  /**
   * One guest store in KVM address space `asId`: `data` as bytes, or a value of `size` (1, 2, 4, 8)
   * bytes stored little endian. An access must not straddle the edge of a slot.
   */
  guestWrite(gpa: bigint, data: Uint8Array | bigint | number, size?: number, asId = 0): GuestWriteResult {
    const addr = u64(gpa, "gpa");
    const as = integerIn(asId, 0, this.#options.addressSpaces - 1, "asId");
    const [bytes, value] = storeBytes(data, size);
    if (addr + BigInt(bytes.length) > 1n << 64n) throw new MockKvmUsageError("access wraps around 2^64", "gpa");
    return guestWrite(this.#guest(), as, addr, bytes, value);
  }

  /** One guest `out` of `size` (1, 2, 4) bytes to `port`. */
  guestPioWrite(port: number, value: bigint | number, size: number): GuestWriteResult {
    const p = integerIn(port, 0, 0xffff, "port");
    const s = oneOf(size, [1, 2, 4], "size");
    const [, v] = storeBytes(value, s);
    return guestPioWrite(this.#guest(), p, v, s);
  }

  /** What a guest read of `length` bytes sees, or null for an MMIO exit (no slot backs the address). */
  guestRead(gpa: bigint, length: number, asId = 0): Uint8Array | null {
    const addr = u64(gpa, "gpa");
    const n = integerIn(length, 1, 2 ** 30, "length");
    const as = integerIn(asId, 0, this.#options.addressSpaces - 1, "asId");
    return guestRead(this.#guest(), as, addr, n);
  }

  /** Every backend call so far, in order, with its result or errno. */
  get calls(): readonly KvmCall[] {
    return this.#recorder.calls;
  }

  clearCalls(): void {
    this.#recorder.clear();
  }

  /**
   * Makes a coming call fail with `errno` (e.g. "EIO") before it changes anything: the next
   * call of `target` (a method name, or a predicate on the pending call) after `after` such calls.
   */
  failNext(
    target: KvmMethod | ((call: PendingCall) => boolean),
    errno: string,
    options: { after?: number } = {},
  ): void {
    this.#recorder.failNext(target, errno, options.after ?? 0);
  }

  clearFaults(): void {
    this.#recorder.clearFaults();
  }

  /** Live memslots, by address space then guest address. */
  memslots(): MockMemslot[] {
    return this.#slots.list().map(({ dirty: _dirty, ...slot }) => slot);
  }

  /** Live ioeventfds in assignment order. */
  ioeventfds(): MockIoeventfd[] {
    return [...this.#ioeventfds.list()];
  }

  /** Live coalesced zones in registration order. */
  coalescedZones(): MockCoalescedZone[] {
    return [...this.#coalesced.list()];
  }

  /** Live slots as in a case's `kvm-slots.json`. */
  slotSnapshot(asNames?: readonly string[]): SlotSnapshot[] {
    return slotSnapshot(this.memslots(), asNames);
  }

  /** Live ioeventfds as in a case's `kvm-ioeventfds.json`. */
  ioeventfdSnapshot(): IoeventfdSnapshot[] {
    return ioeventfdSnapshot(this.#ioeventfds.list());
  }

  #guest(writer?: number): GuestContext {
    return {
      slots: this.#slots,
      ioeventfds: this.#ioeventfds,
      coalesced: this.#coalesced,
      memory: this.#memory,
      hostPageSize: this.hostPageSize,
      dirtyLog: this.#dirtyLog,
      ...(writer === undefined ? {} : { writer }),
    };
  }
}

function readRegion(region: KvmUserspaceMemoryRegion): KvmUserspaceMemoryRegion {
  if (typeof region !== "object" || region === null) throw new MockKvmUsageError("expected an object", "region");
  return Object.freeze({
    slot: u32(region.slot, "region.slot"),
    flags: u32(region.flags, "region.flags"),
    guestPhysAddr: u64(region.guestPhysAddr, "region.guestPhysAddr"),
    memorySize: u64(region.memorySize, "region.memorySize"),
    userspaceAddr: u64(region.userspaceAddr, "region.userspaceAddr"),
  });
}

function readIoeventfd(request: KvmIoeventfd): KvmIoeventfd {
  if (typeof request !== "object" || request === null) throw new MockKvmUsageError("expected an object", "request");
  const notifier = request.notifier;
  if (typeof notifier !== "object" || notifier === null || typeof notifier.signal !== "function") {
    throw new MockKvmUsageError("expected an EventNotifier", "request.notifier");
  }
  return Object.freeze({
    datamatch: u64(request.datamatch, "request.datamatch"),
    addr: u64(request.addr, "request.addr"),
    len: u32(request.len, "request.len"),
    flags: u32(request.flags, "request.flags"),
    notifier,
  });
}

function readZone(zone: KvmCoalescedMmioZone): MockCoalescedZone {
  if (typeof zone !== "object" || zone === null) throw new MockKvmUsageError("expected an object", "zone");
  // The struct's `pio` is a u32 that the kernel refuses unless 0 or 1: a boolean cannot be anything else.
  if (typeof zone.pio !== "boolean") throw new MockKvmUsageError("expected a boolean", "zone.pio");
  return Object.freeze({ addr: u64(zone.addr, "zone.addr"), size: u32(zone.size, "zone.size"), pio: zone.pio });
}
