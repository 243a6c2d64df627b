import { type AddrWindow, type FlatView, FlatViewTable, type ViewEdit } from "@memtopo/flatview";
import {
  type CollectedIoeventfds,
  collectIoeventfdList,
  diffIoeventfds,
  recollectIoeventfds,
  recollectIoeventfdsIn,
  replayIoeventfdAdd,
  replayIoeventfdDel,
} from "@memtopo/ioeventfd";
import {
  ListenerCallbackError,
  ListenerCalls,
  type ListenerFailure,
  ListenerRegistry,
  type MemoryListener,
  notifyCoalescedRange,
  replayRegister,
  replayUnregister,
  sectionFromFlatRange,
  updateTopology,
  updateTopologyPass,
} from "@memtopo/listener-bus";
import {
  type CoalescedRange,
  DIRTY_LOG_CODE,
  DIRTY_LOG_MIGRATION,
  DIRTY_LOG_VGA,
  describeValue,
  lazyRamAllocator,
  MemoryRegion,
  type RamAllocator,
  type RegionHost,
} from "@memtopo/region-tree";
import { AddressSpace, type AddressSpaceState } from "./address-space.js";
import { CoalescedMmioFlush, type CoalescedMmioSource } from "./coalesced-flush.js";
import { sortByCreation } from "./creation-order.js";
import { GLOBAL_DIRTY_MIGRATION, GlobalDirtyLog } from "./dirty-log.js";
import { DIRTY_PAGE_SIZE, type DirtyClient, DirtyMemory } from "./dirty-memory.js";
import { MemorySystemError } from "./errors.js";
import type { AccessEnv } from "./region-access.js";

export type Accel = "kvm" | "tcg" | "none";

export interface MemorySystemOptions {
  /** Where RAM blocks live; JS-heap memory created on first access by default. */
  readonly ramAllocator?: RamAllocator;
  /** The target's byte order (native-endian devices, ioeventfd data, `readValue`/`writeValue`). */
  readonly targetBigEndian?: boolean;
  /**
   * "tcg" adds the CODE dirty-log client to every RAM-backed region; "kvm" means the kernel
   * matches ioeventfds, so writes skip the userspace check. Default "none".
   */
  readonly accel?: Accel;
  /** Whether the VM runs (default true); while it is stopped, global dirty-log stops are postponed (memory_global_dirty_log_stop). */
  readonly vmRunning?: boolean;
}

/**
 * One machine's memory: QEMU's transaction depth and pending flags, the table of views,
 * the address spaces in creation order and the listener lists — everything QEMU keeps in
 * globals. It is the {@link RegionHost} of its regions: `new MemoryRegion(system, {...})`.
 *
 * Listener failures: a callback that throws never interrupts delivery. A commit (or a
 * replay) runs to its end — views installed, ioeventfd lists updated, pending flags cleared,
 * every other callback called — and then throws one {@link ListenerCallbackError} listing
 * the failures. The system is then exactly as if no callback had failed; only the failing
 * listener missed what it threw on, and it is its job to know its own state.
 */
export class MemorySystem implements RegionHost {
  readonly ramAllocator: RamAllocator;
  readonly targetBigEndian: boolean;
  readonly accel: Accel;

  #depth = 0;
  #topologyPending = false;
  #ioeventfdPending = false;
  readonly #creationIndex = (as: AddressSpace): number => this.#states.get(as)!.order;
  /**
   * The regions whose own ioeventfd lists changed since the last commit, or null when some change
   * did not say which region it was (then every space collects again).
   */
  #ioeventfdRegions: Set<MemoryRegion> | null = new Set();
  /** What is being delivered to listeners; nothing may start a transaction or (un)register meanwhile. */
  #delivering: string | null = null;
  readonly #spaces: AddressSpace[] = [];
  readonly #states = new Map<AddressSpace, AddressSpaceState>();
  /** Spaces created so far: the next one's place in the creation order (its state's `order`). */
  #created = 0;
  readonly #views = new FlatViewTable<AddressSpace>(
    (mr) => this.#dirtyLogMaskOf(mr),
    () => (this.globalDirtyTracking === 0 ? 0 : 1),
  );
  /** The empty view's ioeventfd list: what a space holds until its own view is joined. */
  readonly #noIoeventfds = collectIoeventfdList(this.#views.empty);
  readonly #listeners = new ListenerRegistry<AddressSpace>();
  readonly #dirty: GlobalDirtyLog;
  readonly #dirtyMemory = new DirtyMemory();
  readonly #env: AccessEnv;
  readonly #coalesced = new CoalescedMmioFlush();

  constructor(options: MemorySystemOptions = {}) {
    const accel = options.accel ?? "none";
    if (accel !== "kvm" && accel !== "tcg" && accel !== "none") {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `accel must be "kvm", "tcg" or "none", got ${describeValue(accel)}`,
      );
    }
    this.ramAllocator = options.ramAllocator ?? lazyRamAllocator();
    this.targetBigEndian = options.targetBigEndian ?? false;
    this.accel = accel;
    this.#dirty = new GlobalDirtyLog(
      {
        notify: (work) => this.#notify((calls) => work(calls, this.#listeners.global)),
        topologyCommit: () => this.#topologyCommit(),
      },
      options.vmRunning ?? true,
    );
    this.#env = {
      targetBigEndian: this.targetBigEndian,
      userspaceIoeventfds: accel !== "kvm",
      flushCoalescedMmio: () => this.#coalesced.flush(),
      markDirty: (mr, offset, length) => {
        const mask = this.#dirtyLogMaskOf(mr);
        if (mask !== 0) this.#dirtyMemory.setRange(mr, offset, BigInt(length), mask);
      },
    };
  }

  /** Address spaces in creation order. */
  get addressSpaces(): readonly AddressSpace[] {
    return this.#spaces;
  }

  /** Open transactions (0: none). */
  get depth(): number {
    return this.#depth;
  }

  /** Whether the outermost commit will re-render views (QEMU's `memory_region_update_pending`). */
  get topologyPending(): boolean {
    return this.#topologyPending;
  }

  /** Whether the outermost commit will re-collect ioeventfds (`ioeventfd_update_pending`). */
  get ioeventfdPending(): boolean {
    return this.#ioeventfdPending;
  }

  /** The GLOBAL_DIRTY_* clients currently on (QEMU's `global_dirty_tracking`). */
  get globalDirtyTracking(): number {
    return this.#dirty.tracking;
  }

  /** Every registered listener in Forward order (QEMU's global list). */
  get listeners(): readonly MemoryListener[] {
    return this.#listeners.global;
  }

  /** The listeners of one address space in Forward order. */
  listenersOf(as: AddressSpace): readonly MemoryListener[] {
    return this.#listeners.of(as);
  }

  /** `memory_region_transaction_begin`: held-back coalesced writes are flushed first. */
  begin(): void {
    this.#refuseWhileDelivering("begin a transaction");
    this.#coalesced.flush();
    this.#depth++;
  }

  /**
   * `memory_region_transaction_commit`: at the outermost level, a topology commit (views
   * re-rendered; `begin` to all; per space in creation order the topology diff then the
   * ioeventfd diff; `commit` to all) or an ioeventfd-only pass, or nothing when nothing is pending.
   */
  commit(): void {
    this.#refuseWhileDelivering("commit a transaction");
    if (this.#depth === 0) throw new MemorySystemError("E_COMMIT_WITHOUT_BEGIN", "commit() without a matching begin()");
    this.#depth--;
    if (this.#depth > 0) return;
    if (this.#topologyPending) this.#commitTopology();
    else if (this.#ioeventfdPending) this.#commitIoeventfds();
  }

  /**
   * Where `mr` rendered before a change, so that the commit renders again only what can differ.
   * This and the two hooks below are what regions call inside their own transaction; called
   * from anywhere else they would leave work pending that no commit is coming to do.
   */
  topologyWillChange(mr: MemoryRegion): void {
    this.#checkHookCall("topologyWillChange");
    this.#checkOwnRegion(mr, "topologyWillChange");
    this.#views.willChange(mr);
  }

  topologyChanged(): void {
    this.#checkHookCall("topologyChanged");
    this.#views.didChange();
    this.#topologyPending = true;
  }

  ioeventfdsChanged(mr?: MemoryRegion): void {
    this.#checkHookCall("ioeventfdsChanged");
    if (mr === undefined) this.#ioeventfdRegions = null;
    else {
      this.#checkOwnRegion(mr, "ioeventfdsChanged");
      this.#ioeventfdRegions?.add(mr);
    }
    this.#ioeventfdPending = true;
  }

  /**
   * `memory_region_update_coalesced_range`: a coalesced range of `mr` was just added or
   * removed; for every space in creation order, each FlatRange of `mr` in its current view
   * tells the space's listeners the part it shows, at once (no transaction).
   */
  coalescingChanged(mr: MemoryRegion, range: CoalescedRange, added: boolean): void {
    this.#checkOwnRegion(mr, "coalescingChanged");
    // Called by the region itself after the change: an added range is in its list, a removed one is not.
    if (mr.coalesced.includes(range) !== added) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `coalescingChanged: ${mr} ${added ? "does not have" : "still has"} that coalesced range`,
      );
    }
    this.#deliver(added ? "coalesced range add" : "coalesced range clear", (calls) => {
      for (const as of this.#spaces) {
        notifyCoalescedRange(calls, this.#listeners.of(as), this.#states.get(as)!.currentMap, mr, range, added);
      }
    });
  }

  /** `qemu_flush_coalesced_mmio_buffer`: replay what the accelerator held back (see {@link setCoalescedMmioSource}). */
  flushCoalescedMmio(): void {
    this.#coalesced.flush();
  }

  /**
   * Where held-back coalesced writes come from (KVM's ring; `attachKvm` sets it) and which
   * spaces they replay into; null stops flushing. They are flushed at every transaction
   * begin, before dispatch to a region with `flushCoalescedMmio`, and when asked.
   */
  setCoalescedMmioSource(source: CoalescedMmioSource | null): void {
    this.#coalesced.setSource(source, (as) => as instanceof AddressSpace && this.#states.has(as));
  }

  /**
   * `memory_region_get_dirty_log_mask`: the region's own clients (VGA), MIGRATION while
   * global tracking is on for migratable RAM (RAM, ROM and ROM devices; not RAM devices),
   * CODE under TCG for anything with a RAM block.
   */
  dirtyLogMask(mr: MemoryRegion): number {
    if (!(mr instanceof MemoryRegion)) {
      throw new MemorySystemError("E_INVALID_ARGUMENT", `dirtyLogMask: not a MemoryRegion: ${describeValue(mr)}`);
    }
    return this.#dirtyLogMaskOf(mr);
  }

  #dirtyLogMaskOf(mr: MemoryRegion): number {
    let mask = mr.dirtyLogMask;
    if (this.#dirty.tracking !== 0 && mr.ramBlock !== null && !mr.ramDevice) mask |= DIRTY_LOG_MIGRATION;
    if (this.accel === "tcg" && mr.ramBlock !== null) mask |= DIRTY_LOG_CODE;
    return mask;
  }

  /**
   * `address_space_init`: appended to the creation order and given a view at once, outside
   * any transaction: the cached view of its resolved root if there is one (inside an open
   * transaction that view may predate pending changes, as in QEMU), else a fresh render.
   */
  createAddressSpace(name: string | null, root: MemoryRegion): AddressSpace {
    this.#refuseWhileDelivering("create an address space");
    if (name !== null && typeof name !== "string") {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `address space name must be a string, got ${describeValue(name)}`,
      );
    }
    if (!(root instanceof MemoryRegion)) {
      throw new MemorySystemError("E_INVALID_ARGUMENT", "address space root must be a MemoryRegion");
    }
    if (root.host !== this) {
      throw new MemorySystemError("E_FOREIGN_REGION", "address space root belongs to another memory system");
    }
    const state: AddressSpaceState = {
      root,
      currentMap: this.#views.empty,
      ioeventfds: this.#noIoeventfds,
      destroyed: false,
      env: this.#env,
      order: this.#created++,
    };
    const as = new AddressSpace(name ?? "anonymous", state);
    state.currentMap = this.#views.join(as);
    // A bus master's space mostly shows nothing (its alias of `system` disabled): the empty view's list.
    if (state.currentMap !== this.#views.empty) state.ioeventfds = collectIoeventfdList(state.currentMap);
    this.#spaces.push(as);
    this.#states.set(as, state);
    return as;
  }

  /**
   * `address_space_destroy`: the space's root becomes null inside a transaction of its own
   * (which, as in QEMU 7.2, schedules nothing by itself), then the space leaves the creation
   * order. Its listeners must be unregistered first.
   */
  destroyAddressSpace(as: AddressSpace): void {
    this.#refuseWhileDelivering("destroy an address space");
    const state = this.#stateOf(as);
    if (this.#listeners.of(as).length > 0) {
      throw new MemorySystemError(
        "E_ADDRESS_SPACE_HAS_LISTENERS",
        `address space "${as.name}" still has ${this.#listeners.of(as).length} listener(s); unregister them first`,
      );
    }
    const root = state.root;
    this.begin();
    state.root = null;
    try {
      this.commit();
    } finally {
      this.#spaces.splice(this.#spaces.indexOf(as), 1);
      this.#states.delete(as);
      state.root = root;
      this.#views.leave(as);
      state.destroyed = true;
    }
  }

  /**
   * `memory_listener_register`: inserts `listener` into the global list and the list of
   * `as` (ascending priority, ties in registration order), then replays the space's current
   * state to it alone (ranges, dirty logging and — the project's choice, as QEMU 8.0+ —
   * ioeventfds). Registering inside a transaction replays the pre-transaction view.
   */
  registerListener(listener: MemoryListener, as: AddressSpace): void {
    this.#refuseWhileDelivering("register a listener");
    const state = this.#stateOf(as);
    this.#listeners.add(listener, as);
    try {
      this.#deliver("listener registration", (calls) =>
        replayRegister(
          calls,
          listener,
          state.currentMap,
          this.#dirty.tracking !== 0,
          replayIoeventfdAdd(state.ioeventfds.records),
        ),
      );
    } catch (error) {
      // A listener that could not take the replay does not know the space's state: it is not
      // registered (it may have seen part of the replay; nothing is undone in it).
      this.#listeners.remove(listener);
      throw error;
    }
  }

  /** `memory_listener_unregister`: `region_del` (and `log_stop`, `eventfd_del`) for the current state, then unlinked. */
  unregisterListener(listener: MemoryListener): void {
    this.#refuseWhileDelivering("unregister a listener");
    const as = this.#listeners.addressSpaceOf(listener);
    if (as === undefined) {
      throw new MemorySystemError("E_LISTENER_NOT_REGISTERED", "this listener is not registered on this system");
    }
    const state = this.#states.get(as)!;
    try {
      this.#deliver("listener unregistration", (calls) =>
        replayUnregister(calls, listener, state.currentMap, replayIoeventfdDel(state.ioeventfds.records)),
      );
    } finally {
      this.#listeners.remove(listener);
    }
  }

  /** Whether the VM runs; see {@link MemorySystem.setVmRunning}. */
  get vmRunning(): boolean {
    return this.#dirty.vmRunning;
  }

  /**
   * The VM's run state, for QEMU's postponed dirty-log stop (`memory_global_dirty_log_stop`): stops requested while
   * the VM is stopped take effect when it runs again (`memory_vm_change_state_handler`).
   */
  setVmRunning(running: boolean): void {
    this.#refuseWhileDelivering("change the run state");
    this.#dirty.setVmRunning(running);
  }

  /**
   * `memory_global_dirty_log_start(flags)`: a postponed stop of these flags is cancelled and
   * the rest of it runs first; clients already on are ignored; when tracking goes from off
   * to on, `log_global_start` (Forward) and then a topology commit, whose ranges gain the
   * MIGRATION bit (`region_nop` + `log_start`).
   */
  startDirtyLog(flags: number = GLOBAL_DIRTY_MIGRATION): void {
    this.#refuseWhileDelivering("start dirty logging");
    this.#dirty.start(flags);
  }

  /**
   * `memory_global_dirty_log_stop(flags)`: postponed while the VM is stopped; otherwise the
   * clients go off, and when tracking reaches off, a topology commit (ranges lose MIGRATION:
   * `log_stop`) and then `log_global_stop` (Reverse).
   */
  stopDirtyLog(flags: number = GLOBAL_DIRTY_MIGRATION): void {
    this.#refuseWhileDelivering("stop dirty logging");
    this.#dirty.stop(flags);
  }

  /**
   * `memory_region_sync_dirty_bitmap` (`memory_global_dirty_log_sync` when `target` is
   * omitted): each listener (Forward) with `logSync` gets every range of its own space's view
   * that has a non-zero mask (and, given a region, belongs to it); one without gets
   * `logSyncGlobal(lastStage)`. Given an address space, only that space's listeners are
   * asked (the project's addition: QEMU syncs one region or everything).
   */
  syncDirtyLog(target?: MemoryRegion | AddressSpace, lastStage = false): void {
    this.#refuseWhileDelivering("sync dirty logs");
    if (typeof lastStage !== "boolean") {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `syncDirtyLog: lastStage must be a boolean, got ${describeValue(lastStage)}`,
      );
    }
    const mr = target instanceof AddressSpace ? undefined : target;
    if (mr !== undefined) this.#checkOwnRegion(mr, "syncDirtyLog");
    if (target instanceof AddressSpace) this.#stateOf(target);
    const listeners = target instanceof AddressSpace ? this.#listeners.of(target) : null;
    this.#deliver("dirty-log sync", (calls) => {
      for (const listener of listeners ?? this.#listeners.global) {
        if (listener.logSync !== undefined) {
          const view = this.#states.get(this.#listeners.addressSpaceOf(listener)!)!.currentMap;
          for (const range of view.ranges) {
            if (range.dirtyLogMask !== 0 && (mr === undefined || range.mr === mr)) {
              calls.one(listener, "logSync", sectionFromFlatRange(range, view));
            }
          }
        } else {
          calls.one(listener, "logSyncGlobal", lastStage);
        }
      }
    });
  }

  /**
   * `memory_region_clear_dirty_bitmap`: each listener (Forward) with `logClear` gets, for every
   * range of its space's view that shows `mr`, the part showing `[start, start + length)` of
   * `mr` — with KVM's manual dirty-log protect, the kernel re-protects those pages then.
   */
  clearDirtyLog(mr: MemoryRegion, start: bigint, length: bigint): void {
    this.#refuseWhileDelivering("clear dirty logs");
    this.#checkOwnRegion(mr, "clearDirtyLog");
    this.#checkBlockRange(mr, start, length, "clearDirtyLog");
    const end = start + length;
    this.#deliver("dirty-log clear", (calls) => {
      for (const listener of this.#listeners.global) {
        if (listener.logClear === undefined) continue;
        const view = this.#states.get(this.#listeners.addressSpaceOf(listener)!)!.currentMap;
        for (const range of view.ranges) {
          if (range.mr !== mr) continue;
          const from = range.offsetInRegion > start ? range.offsetInRegion : start;
          const rangeEnd = range.offsetInRegion + range.size;
          const to = rangeEnd < end ? rangeEnd : end;
          if (from >= to) continue;
          const section = sectionFromFlatRange(range, view);
          calls.one(listener, "logClear", {
            ...section,
            offsetWithinAddressSpace: section.offsetWithinAddressSpace + (from - range.offsetInRegion),
            offsetWithinRegion: from,
            size: to - from,
          });
        }
      }
    });
  }

  /**
   * `memory_region_set_dirty`: the pages of `[offset, offset + length)` of `mr`'s RAM block
   * become dirty for every client of the region's current mask.
   */
  setDirty(mr: MemoryRegion, offset: bigint, length: bigint): void {
    this.#checkOwnRegion(mr, "setDirty");
    this.#checkBlockRange(mr, offset, length, "setDirty");
    this.#dirtyMemory.setRange(mr, offset, length, this.#dirtyLogMaskOf(mr));
  }

  /**
   * `cpu_physical_memory_set_dirty_lebitmap`, where an accelerator's log lands: bit i of
   * `bitmap` (64-bit little-endian words) is the `pageSize`-byte page at `offset + i * pageSize`
   * of `mr`'s RAM block. VGA always takes it, MIGRATION while global tracking is on, CODE under TCG.
   */
  setDirtyLebitmap(mr: MemoryRegion, offset: bigint, bitmap: Uint8Array, pages: number, pageSize: number): void {
    this.#checkOwnRegion(mr, "setDirtyLebitmap");
    if (!(bitmap instanceof Uint8Array)) {
      throw new MemorySystemError("E_INVALID_ARGUMENT", "setDirtyLebitmap: bitmap must be a Uint8Array");
    }
    if (!Number.isSafeInteger(pages) || pages < 0 || Math.ceil(pages / 8) > bitmap.length) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `setDirtyLebitmap: ${describeValue(pages)} pages do not fit a ${bitmap.length}-byte bitmap`,
      );
    }
    if (!Number.isSafeInteger(pageSize) || pageSize < DIRTY_PAGE_SIZE || pageSize % DIRTY_PAGE_SIZE !== 0) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `setDirtyLebitmap: pageSize must be a multiple of ${DIRTY_PAGE_SIZE}, got ${describeValue(pageSize)}`,
      );
    }
    this.#checkBlockRange(mr, offset, 0n, "setDirtyLebitmap");
    if (offset % BigInt(DIRTY_PAGE_SIZE) !== 0n) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `setDirtyLebitmap: offset 0x${offset.toString(16)} is not page aligned`,
      );
    }
    let mask = DIRTY_LOG_VGA;
    if (this.#dirty.tracking !== 0) mask |= DIRTY_LOG_MIGRATION;
    if (this.accel === "tcg") mask |= DIRTY_LOG_CODE;
    this.#dirtyMemory.setLebitmap(mr, offset, bitmap, pages, pageSize, mask);
  }

  /** `memory_region_get_dirty`: whether a page of `[offset, offset + length)` of `mr` is dirty for `client`. */
  getDirty(mr: MemoryRegion, offset: bigint, length: bigint, client: DirtyClient): boolean {
    this.#checkOwnRegion(mr, "getDirty");
    this.#checkBlockRange(mr, offset, length, "getDirty");
    this.#checkClient(client, "getDirty");
    return this.#dirtyMemory.get(mr, offset, length, client);
  }

  /**
   * The migration bitmap of one RAM block (QEMU's `ramblock_sync_dirty_bitmap` then the
   * clears of `migration_bitmap_clear_dirty`): the client's bitmap of `mr`'s block, bit i
   * for the 4 KiB page at offset i * 4096 of the block, and that bitmap zeroed; then, for
   * each chunk of `clearChunk` bytes (QEMU's clear-bitmap chunk, 1 GiB by default) holding a
   * taken page, `clearDirtyLog` (KVM re-protects those pages). Call {@link syncDirtyLog}
   * first, and copy the pages after: a write after the clear is dirty again.
   */
  takeDirtyBitmap(mr: MemoryRegion, client: DirtyClient = DIRTY_LOG_MIGRATION, clearChunk = 1n << 30n): Uint8Array {
    this.#refuseWhileDelivering("take a dirty bitmap");
    this.#checkOwnRegion(mr, "takeDirtyBitmap");
    this.#checkClient(client, "takeDirtyBitmap");
    if (mr.ramBlock === null) {
      throw new MemorySystemError("E_NOT_RAM", `takeDirtyBitmap: ${mr} has no RAM block`);
    }
    const page = BigInt(DIRTY_PAGE_SIZE);
    if (typeof clearChunk !== "bigint" || clearChunk < 64n * page || (clearChunk & (clearChunk - 1n)) !== 0n) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `takeDirtyBitmap: clearChunk must be a power of two of at least 64 pages, got ${describeValue(clearChunk)}`,
      );
    }
    const bitmap = this.#dirtyMemory.take(mr, client);
    // Whatever the client (QEMU's snapshot_and_clear_dirty clears for VGA too): the kernel's bits
    // reached every client's bitmap when they were fetched, so re-protecting loses nothing.
    const chunkBytes = Number(clearChunk / page / 8n);
    const size = mr.ramBlock.size;
    for (let at = 0; at < bitmap.length; at += chunkBytes) {
      const end = Math.min(bitmap.length, at + chunkBytes);
      let any = false;
      for (let i = at; i < end && !any; i++) any = bitmap[i] !== 0;
      if (!any) continue;
      const start = BigInt(at) * 8n * page;
      const length = start + clearChunk > size ? size - start : clearChunk;
      this.clearDirtyLog(mr, start, length);
    }
    return bitmap;
  }

  /** A topology commit even with nothing pending (the global dirty-log switches); returns the failures. */
  #topologyCommit(): readonly ListenerFailure[] {
    this.begin();
    this.topologyChanged();
    try {
      this.commit();
    } catch (error) {
      if (error instanceof ListenerCallbackError) return error.failures;
      throw error;
    }
    return [];
  }

  #commitTopology(): void {
    try {
      this.#deliverTopology();
    } catch (error) {
      // Not a listener's failure (those are collected, never thrown mid-way): something broke the
      // render or the diff. The topology stays pending, and the next commit renders every view
      // from scratch and diffs each space from the view it actually has, so it tells the truth.
      if (!(error instanceof ListenerCallbackError)) this.#views.lose();
      throw error;
    }
  }

  #deliverTopology(): void {
    this.#deliver("commit", (calls) => {
      const changed = this.#views.reset();
      calls.forward(this.#listeners.global, "begin");
      const collected = new Map<FlatView, CollectedIoeventfds>();
      for (const as of this.#spacesToVisit(changed)) {
        const state = this.#states.get(as)!;
        const view = changed.get(as) ?? state.currentMap;
        const listeners = this.#listeners.of(as);
        let edit: ViewEdit | undefined;
        if (view !== state.currentMap) {
          edit = this.#views.editOf(view);
          updateTopology(calls, listeners, state.currentMap, view, undefined, edit);
          state.currentMap = view;
        } else {
          // Nothing touched this root, so the table kept its view. QEMU would have rendered an
          // equal new one (except the permanent empty view) and told the space's listeners
          // region_nop for each range; the ioeventfd list cannot have changed either.
          if (view !== this.#views.empty && listeners.some((l) => l.regionNop !== undefined)) {
            updateTopologyPass(calls, listeners, view.ranges, view.ranges, view, true);
          }
          if (!this.#ioeventfdPending) continue;
        }
        // A region's own list may have changed too: then every space collects from its whole view.
        this.#updateIoeventfds(calls, as, state, collected, this.#ioeventfdPending ? undefined : edit);
      }
      this.#topologyPending = false;
      this.#ioeventfdsCollected();
      calls.forward(this.#listeners.global, "commit");
    });
  }

  /**
   * The spaces whose turn in a topology commit can do anything, in creation order: those
   * whose view may have changed, those with a `region_nop` listener (QEMU tells them about
   * every range), and all of them when ioeventfds are to be collected again. For any
   * other space QEMU would render an equal view and tell its listeners nothing.
   */
  #spacesToVisit(changed: ReadonlyMap<AddressSpace, FlatView>): readonly AddressSpace[] {
    if (this.#ioeventfdPending) return this.#spaces;
    const visit = [...changed.keys()];
    for (const listener of this.#listeners.global) {
      if (listener.regionNop === undefined) continue;
      const as = this.#listeners.addressSpaceOf(listener)!;
      if (!changed.has(as) && !visit.includes(as)) visit.push(as);
    }
    return sortByCreation(visit, this.#creationIndex);
  }

  /**
   * The ioeventfd-only commit: QEMU collects every space's list again (no begin/commit). A list
   * can differ only in a space whose view shows a region whose own list changed, and only in the
   * ranges where that region can show: those spaces, in creation order, collect those ranges
   * again; every other space would collect the list it has and tell its listeners nothing.
   */
  #commitIoeventfds(): void {
    this.#deliver("commit", (calls) => {
      const regions = this.#ioeventfdRegions;
      const shown = regions === null ? null : this.#views.showing(regions);
      const visit = shown === null ? null : this.#ioeventfdSpaces(shown);
      const collected = new Map<FlatView, CollectedIoeventfds>();
      if (visit === null) {
        for (const as of this.#spaces) this.#updateIoeventfds(calls, as, this.#states.get(as)!, collected, undefined);
      } else {
        for (const { as, windows } of visit) {
          const state = this.#states.get(as)!;
          let next = collected.get(state.currentMap);
          if (next === undefined) {
            next = recollectIoeventfdsIn(state.ioeventfds, windows);
            collected.set(state.currentMap, next);
          }
          if (next.records !== state.ioeventfds.records) {
            diffIoeventfds(calls, this.#listeners.of(as), state.ioeventfds.records, next.records, state.currentMap);
          }
          state.ioeventfds = next;
        }
      }
      this.#ioeventfdsCollected();
    });
  }

  /**
   * The spaces of {@link FlatViewTable.showing}'s views in creation order, each with its view's
   * windows; null when a space's view or list is not the table's (then every space collects in full).
   */
  #ioeventfdSpaces(
    shown: readonly { users: ReadonlySet<AddressSpace>; view: FlatView; windows: AddrWindow[] }[],
  ): { as: AddressSpace; windows: AddrWindow[] }[] | null {
    const visit: { as: AddressSpace; windows: AddrWindow[] }[] = [];
    for (const { users, view, windows } of shown) {
      for (const as of users) {
        const state = this.#states.get(as);
        if (state === undefined || state.currentMap !== view || state.ioeventfds.view !== view) return null;
        visit.push({ as, windows });
      }
    }
    return sortByCreation(visit, (v) => this.#states.get(v.as)!.order);
  }

  /** Every list is collected again: nothing is pending until a region's list changes. */
  #ioeventfdsCollected(): void {
    this.#ioeventfdPending = false;
    if (this.#ioeventfdRegions === null) this.#ioeventfdRegions = new Set();
    else if (this.#ioeventfdRegions.size > 0) this.#ioeventfdRegions.clear();
  }

  /**
   * `address_space_update_ioeventfds`: collect from the current view, diff, replace. With
   * `edit` (how the view was re-rendered from the space's previous one) only the edit's
   * splices are collected again; without it, the whole view. An unchanged list is no diff.
   */
  #updateIoeventfds(
    calls: ListenerCalls,
    as: AddressSpace,
    state: AddressSpaceState,
    collected: Map<FlatView, CollectedIoeventfds>,
    edit: ViewEdit | undefined,
  ): void {
    const view = state.currentMap;
    let next = collected.get(view);
    if (next === undefined) {
      next = edit === undefined ? collectIoeventfdList(view) : recollectIoeventfds(state.ioeventfds, view, edit);
      collected.set(view, next);
    }
    if (next.records !== state.ioeventfds.records) {
      diffIoeventfds(calls, this.#listeners.of(as), state.ioeventfds.records, next.records, view);
    }
    state.ioeventfds = next;
  }

  #deliver(during: string, work: (calls: ListenerCalls) => void): void {
    const calls = new ListenerCalls();
    // Coalescing notifies at once, so it may run inside another delivery (as in QEMU).
    const outer = this.#delivering;
    this.#delivering = during;
    try {
      work(calls);
    } finally {
      this.#delivering = outer;
    }
    calls.throwIfFailed(during);
  }

  #notify(work: (calls: ListenerCalls) => void): readonly ListenerFailure[] {
    const calls = new ListenerCalls();
    this.#delivering = "dirty-log switch";
    try {
      work(calls);
    } finally {
      this.#delivering = null;
    }
    return calls.failures;
  }

  #refuseWhileDelivering(what: string): void {
    if (this.#delivering !== null) {
      throw new MemorySystemError(
        "E_REENTRANT",
        `cannot ${what} from a listener callback (during ${this.#delivering}); QEMU would re-enter its commit`,
      );
    }
  }

  #checkHookCall(hook: string): void {
    // The message is made only on refusal: a hook runs twice per region change.
    if (this.#delivering !== null) this.#refuseWhileDelivering(`call ${hook}`);
    if (this.#depth === 0) {
      throw new MemorySystemError("E_NOT_IN_TRANSACTION", `${hook}() outside a transaction: call begin() first`);
    }
  }

  #checkClient(client: DirtyClient, what: string): void {
    if (client !== DIRTY_LOG_VGA && client !== DIRTY_LOG_CODE && client !== DIRTY_LOG_MIGRATION) {
      throw new MemorySystemError(
        "E_INVALID_ARGUMENT",
        `${what}: client must be DIRTY_LOG_VGA, DIRTY_LOG_CODE or DIRTY_LOG_MIGRATION (1, 2, 4), got ${describeValue(client)}`,
      );
    }
  }

  /** `[offset, offset + length)` must lie in `mr`'s RAM block. */
  #checkBlockRange(mr: MemoryRegion, offset: bigint, length: bigint, what: string): void {
    const block = mr.ramBlock;
    if (block === null) throw new MemorySystemError("E_NOT_RAM", `${what}: ${mr} has no RAM block`);
    if (typeof offset !== "bigint" || typeof length !== "bigint" || offset < 0n || length < 0n) {
      throw new MemorySystemError("E_INVALID_ARGUMENT", `${what}: offset and length must be non-negative bigints`);
    }
    if (offset + length > block.size) {
      throw new MemorySystemError(
        "E_RAM_RANGE",
        `${what}: 0x${offset.toString(16)}+0x${length.toString(16)} is outside ${mr}'s 0x${block.size.toString(16)}-byte RAM block`,
      );
    }
  }

  #checkOwnRegion(mr: MemoryRegion, what: string): void {
    if (!(mr instanceof MemoryRegion)) {
      throw new MemorySystemError("E_INVALID_ARGUMENT", `${what}: not a MemoryRegion: ${describeValue(mr)}`);
    }
    if (mr.host !== this)
      throw new MemorySystemError("E_FOREIGN_REGION", `${what}: ${mr} belongs to another memory system`);
  }

  #stateOf(as: AddressSpace): AddressSpaceState {
    const state = as instanceof AddressSpace ? this.#states.get(as) : undefined;
    if (state === undefined) {
      const why = as instanceof AddressSpace && as.destroyed ? "was destroyed" : "does not belong to this system";
      throw new MemorySystemError("E_UNKNOWN_ADDRESS_SPACE", `address space ${describeValue(as)} ${why}`);
    }
    return state;
  }
}
