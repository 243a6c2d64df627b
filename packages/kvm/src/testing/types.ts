import type { EventNotifier, RamAllocator } from "@memtopo/region-tree";
import type { KvmBackend } from "../backend.js";

/** The matchers the suite uses; vitest's and jest's `expect` fit. */
export type ConformanceExpect = (
  actual: unknown,
  message?: string,
) => {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
};

/**
 * The test framework, passed in so that `@memtopo/kvm` never imports one:
 * `describeKvmBackendConformance({ describe, it, expect }, factory)` from a vitest file.
 */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
  expect: ConformanceExpect;
}

/** What a simulated or real vCPU did with one store: `exit` = it left the guest for userspace (MMIO or PIO exit). */
export type GuestStoreOutcome = "exit" | "none";

/**
 * Optional guest hooks: a backend that can run guest code provides them, and the suite then
 * also checks what the kernel does with guest stores (dirty bits, ioeventfd signals, exits).
 */
export interface KvmConformanceGuest {
  /**
   * One guest store of `size` bytes of `value` (little endian) at `gpa` in KVM address
   * space 0, as a single `mov`. Resolves to `exit` when the vCPU exited to userspace with an
   * MMIO exit for this store (a read-only slot or no slot, and no ioeventfd matched), `none`
   * when the kernel completed it (memory or an ioeventfd).
   */
  write(gpa: bigint, value: bigint, size: 1 | 2 | 4 | 8): Promise<GuestStoreOutcome> | GuestStoreOutcome;
  /** One guest `out` of `size` bytes to `port`; `exit` when it reached userspace as a PIO exit. */
  pioWrite(port: number, value: number, size: 1 | 2 | 4): Promise<GuestStoreOutcome> | GuestStoreOutcome;
  /** Signals of `notifier` since the last read, then resets it to 0 (`read(2)` on an eventfd; 0 when none). */
  readNotifier(notifier: EventNotifier): number;
}

/**
 * One fresh VM and what the suite needs around it.
 *
 * What the cases use, so that guest hooks can keep out of the way: slot ids 0-15, the ids
 * `KVM_CAP_NR_MEMSLOTS - 1` and `KVM_CAP_NR_MEMSLOTS`, and 0xffff (in address space 0, and
 * id 0 of address space 1); guest-physical addresses below 0x0200_0000, 0xd000_0000 to
 * 0xd000_1000 and the top page below 2^64; ports 0x60 and 0xc110-0xc113. Guest hooks that
 * need their own memory (code, stack) may keep it in slots with ids 16-99 mapped at or above
 * 0xfff0_0000 (below 4 GiB), and must not register ioeventfds.
 */
export interface KvmConformanceEnv {
  /** A new VM: no ioeventfds, and no memslots other than the guest hooks' own (see above). */
  readonly backend: KvmBackend;
  /**
   * Host memory for `userspace_addr`: every block is page aligned, mapped (readable and
   * writable) until `cleanup`, and distinct blocks do not overlap. `bytes()` is the memory the
   * guest sees through a slot (for the native backend: the mmap'd pages themselves).
   */
  readonly ram: RamAllocator;
  /** A notifier the backend accepts in `ioeventfd` (for the native backend a real eventfd). */
  createEventNotifier(): EventNotifier;
  /** Guest hooks; required when the factory says `hasGuest`. */
  readonly guest?: KvmConformanceGuest;
  /** Releases the VM, its memory and notifiers. Called once per test, also after a failure. */
  cleanup(): Promise<void> | void;
}

/** Makes one isolated environment per test; the suite calls `create` at the start of every case. */
export interface KvmBackendFactory {
  /** Shown in the suite's title ("mock", "native /dev/kvm"). */
  readonly name: string;
  /**
   * True when every environment comes with {@link KvmConformanceEnv.guest} hooks. The suite
   * registers its guest-store cases only then (tests are registered before any VM exists).
   */
  readonly hasGuest?: boolean;
  /**
   * True when the backend implements `registerCoalescedMmio`, `unregisterCoalescedMmio` and
   * `takeCoalescedWrites`: the suite then registers its coalesced-zone cases.
   */
  readonly hasCoalescedMmio?: boolean;
  create(): Promise<KvmConformanceEnv>;
}
