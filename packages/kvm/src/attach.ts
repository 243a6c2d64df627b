import type { MemoryListener } from "@memtopo/listener-bus";
import { KVM_CAP, type KvmBackend, type KvmCoalescedWrite } from "./backend.js";
import { coalescesMmio, KvmCoalescedPioListener } from "./coalesced.js";
import { DirtyRingReaper } from "./dirty-ring-reaper.js";
import { KvmIoListener } from "./io-listener.js";
import { type DirtyLogMaskSource, KvmMemoryListener, type KvmMemoryListenerOptions } from "./memory-listener.js";

/** What `attachKvm` needs of a memory system (memtopo's MemorySystem is one). */
export interface KvmHostSystem<AS> extends DirtyLogMaskSource {
  registerListener(listener: MemoryListener, as: AS): void;
  /** The guest's byte order (memtopo's MemorySystem has it); little-endian when absent. */
  readonly targetBigEndian?: boolean;
  /**
   * Where `qemu_flush_coalesced_mmio_buffer` drains from: the system replays each held-back
   * write into `memory` (MMIO) or `io` (PIO) when it flushes (every transaction begin, and
   * before dispatch to a region that asks for it).
   */
  setCoalescedMmioSource?(source: CoalescedMmioSource<AS> | null): void;
}

/** The kernel's coalesced ring as a memory system drains it. */
export interface CoalescedMmioSource<AS> {
  take(): readonly KvmCoalescedWrite[];
  readonly memory: AS;
  readonly io: AS | null;
}

export interface KvmAttachment<AS> {
  /** The address spaces the listeners were registered on. */
  readonly spaces: { readonly memory: AS; readonly io: AS | null; readonly smram: AS | null };
  readonly memory: KvmMemoryListener;
  readonly smram: KvmMemoryListener | null;
  readonly io: KvmIoListener | null;
  /** On the `I/O` space whenever one is given, as QEMU registers it. */
  readonly coalescedPio: KvmCoalescedPioListener | null;
  /**
   * The VM's dirty-ring reaper when the backend has the ring on: a vCPU that exits with
   * KVM_EXIT_DIRTY_RING_FULL (`{ reason: "dirty-ring-full" }`) is resumed after
   * `dirtyRing.reap()`, as QEMU's `kvm_cpu_exec` does; the pages wait in the slots for the next sync.
   */
  readonly dirtyRing: DirtyRingReaper | null;
  /**
   * QEMU's `kvm_accel_has_memory` for the ` KVM` suffix of `info mtree -f`. Any address space may be asked (a
   * printer holds its own view of them): those the listeners are not on have no memory in KVM.
   */
  hasMemory(as: object, start: bigint, size: bigint): boolean;
}

/**
 * Registers the listeners QEMU's `kvm_init` registers, in its order: the memory listener
 * on `memory` (KVM address space 0, with MMIO ioeventfds when the kernel has them), the
 * PIO ioeventfd listener on `io` (likewise), the coalesced-PIO listener on `io`, and, given
 * an SMRAM space and a kernel with two address spaces, a memory listener on it as KVM
 * address space 1. When the kernel coalesces MMIO and the backend can drain its ring, the
 * system is told where to flush from.
 */
export function attachKvm<AS>(
  system: KvmHostSystem<AS>,
  backend: KvmBackend,
  spaces: { memory: AS; io?: AS; smram?: AS },
  options: Pick<KvmMemoryListenerOptions, "maxSlotSize"> = {},
): KvmAttachment<AS> {
  const eventfds = backend.checkExtension(KVM_CAP.IOEVENTFD) > 0;
  const targetBigEndian = system.targetBigEndian === true;
  // One reaper for the VM's rings, whose entries go to the listener of their address space.
  const dirtyRing = (backend.dirtyRingSize ?? 0) > 0 ? new DirtyRingReaper(backend) : null;
  const ring = dirtyRing === null ? {} : { dirtyRing };
  const memory = new KvmMemoryListener(backend, system, {
    ...options,
    ...ring,
    asId: 0,
    ioeventfds: eventfds,
    targetBigEndian,
  });
  system.registerListener(memory, spaces.memory);
  let io: KvmIoListener | null = null;
  if (spaces.io !== undefined && eventfds) {
    io = new KvmIoListener(backend, { targetBigEndian });
    system.registerListener(io, spaces.io);
  }
  let coalescedPio: KvmCoalescedPioListener | null = null;
  if (spaces.io !== undefined) {
    coalescedPio = new KvmCoalescedPioListener(backend);
    system.registerListener(coalescedPio, spaces.io);
  }
  const take = backend.takeCoalescedWrites;
  if (take !== undefined && coalescesMmio(backend)) {
    system.setCoalescedMmioSource?.({ take: () => take.call(backend), memory: spaces.memory, io: spaces.io ?? null });
  }
  let smram: KvmMemoryListener | null = null;
  if (spaces.smram !== undefined && backend.checkExtension(KVM_CAP.MULTI_ADDRESS_SPACE) >= 2) {
    smram = new KvmMemoryListener(backend, system, { ...options, ...ring, asId: 1, name: "kvm-smram" });
    system.registerListener(smram, spaces.smram);
  }
  return {
    spaces: { memory: spaces.memory, io: spaces.io ?? null, smram: smram === null ? null : (spaces.smram ?? null) },
    memory,
    smram,
    io,
    coalescedPio,
    dirtyRing,
    hasMemory(as, start, size) {
      if (as === spaces.memory) return memory.hasMemory(start, size);
      if (smram !== null && as === spaces.smram) return smram.hasMemory(start, size);
      return false;
    },
  };
}

/**
 * `attachKvm` for a machine's address spaces found by QEMU's names: `memory`, `I/O` and
 * `KVM-SMRAM`. Null when the machine has no `memory` space.
 */
export function attachKvmByName<AS extends { readonly name: string }>(
  system: KvmHostSystem<AS>,
  backend: KvmBackend,
  addressSpaces: readonly AS[],
  options: Pick<KvmMemoryListenerOptions, "maxSlotSize"> = {},
): KvmAttachment<AS> | null {
  const space = (name: string) => addressSpaces.find((as) => as.name === name);
  const memory = space("memory");
  if (memory === undefined) return null;
  const io = space("I/O");
  const smram = space("KVM-SMRAM");
  return attachKvm(
    system,
    backend,
    { memory, ...(io === undefined ? {} : { io }), ...(smram === undefined ? {} : { smram }) },
    options,
  );
}
