import type { GuestBus, KvmBackend } from "@memtopo/kvm";
import type { EventNotifier, RamAllocator } from "@memtopo/region-tree";

/** An eventfd (or its stand-in) whose counter the demo reads after the run. */
export interface CountingNotifier extends EventNotifier {
  read(): bigint | number;
}

/** How the guest's run ended. */
export interface GuestStop {
  readonly reason: string;
  /** A line saying what ran the guest (the real vCPU, or the interpreter on the mock kernel). */
  readonly engine: string;
}

/** What the demo needs of a KVM backend: the kernel, its RAM, eventfds and a way to run the guest. */
export interface DemoBackend {
  readonly name: "native" | "mock";
  readonly kvm: KvmBackend;
  readonly ramAllocator: RamAllocator;
  createNotifier(): CountingNotifier;
  /**
   * Runs `code` (loaded at `entry` by the caller) in real mode with FS based at `fsBase`,
   * sending every exit to `buses`, until the guest halts.
   */
  runGuest(entry: number, fsBase: bigint, buses: { memory: GuestBus; io: GuestBus }): GuestStop;
  close(): void;
}
