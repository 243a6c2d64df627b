import type {
  KvmBackend,
  KvmCoalescedMmioZone,
  KvmCoalescedWrite,
  KvmIoeventfd,
  KvmUserspaceMemoryRegion,
} from "@memtopo/kvm";
import type { EventNotifier, RamAllocator, RamBacking } from "@memtopo/region-tree";
import { CoalescedZones, type MockCoalescedZone } from "./coalesced.js";
import { clearDirtyLog, getDirtyLog } from "./dirty-log.js";
import { MockKvmUsageError } from "./errors.js";
import { type GuestContext, type GuestWriteResult, guestPioWrite, guestRead, guestWrite, storeBytes } from "./guest.js";
import { HostMemory } from "./host-memory.js";
import { IoeventfdTable, type MockIoeventfd } from "./ioeventfds.js";
import { MemslotTable, type MockMemslot } from "./memslots.js";
import { MockEventNotifier } from "./notifier.js";
import { extensionValue, type MockKvmOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { CallRecorder, type KvmCall, type KvmMethod, type PendingCall } from "./recorder.js";
import { type IoeventfdSnapshot, ioeventfdSnapshot, type SlotSnapshot, slotSnapshot } from "./snapshot.js";
import { integerIn, oneOf, u32, u64 } from "./validate.js";

/**
 * A {@link KvmBackend} in pure TypeScript that enforces what the Linux kernel enforces,
 * failing with the kernel's errno, and changes nothing when a call fails. It records every
 * backend call, can be told to fail chosen calls, and simulates guest writes that dirty
 * pages, hit ioeventfds or exit to userspace.
 */
export class MockKvm implements KvmBackend {
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

  constructor(options: MockKvmOptions = {}) {
    this.#options = resolveOptions(options);
    this.hostPageSize = this.#options.hostPageSize;
    this.#slots = new MemslotTable(this.#options);
    this.#ioeventfds = new IoeventfdTable(this.#options, (n) => this.#notifiers.has(n));
    this.#coalesced = new CoalescedZones(this.hostPageSize, this.#options.coalescedRingModuloBug);
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
      getDirtyLog(this.#slots, this.#options, s),
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
      clearDirtyLog(this.#slots, this.#options, s, first, count, copy),
    );
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
    const notifier = new MockEventNotifier(this.#nextNotifierId++);
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

  #guest(): GuestContext {
    return {
      slots: this.#slots,
      ioeventfds: this.#ioeventfds,
      coalesced: this.#coalesced,
      memory: this.#memory,
      hostPageSize: this.hostPageSize,
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
