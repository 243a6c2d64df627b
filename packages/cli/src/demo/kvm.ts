import {
  KVM_IOEVENTFD_FLAG_DATAMATCH,
  KVM_IOEVENTFD_FLAG_DEASSIGN,
  KVM_IOEVENTFD_FLAG_PIO,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  type KvmBackend,
} from "@memtopo/kvm";
import type { EventNotifier, MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import type { DemoMachine } from "./machine.js";

/** The part of a Section the bridge reads. */
interface Section {
  readonly mr: MemoryRegion | null;
  readonly offsetWithinRegion: bigint;
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
}

interface Slot {
  readonly id: number;
  readonly gpa: bigint;
  readonly size: bigint;
}

/**
 * The demo's bridge from listener events to a KvmBackend, following QEMU 7.2's
 * `kvm_set_phys_mem` for what the demo machine needs: RAM, ROM and romd sections become
 * memslots trimmed inward to host pages, READONLY taken from the region (not the section),
 * LOG_DIRTY_PAGES from its dirty-log clients; ioeventfds become KVM_IOEVENTFD, PIO on I/O.
 */
class DemoKvmListener {
  readonly name: string;
  readonly priority = 10;
  readonly slots: Slot[] = [];
  readonly #kvm: KvmBackend;
  readonly #pio: boolean;
  readonly #system: MemorySystem;

  constructor(kvm: KvmBackend, system: MemorySystem, pio: boolean) {
    this.#kvm = kvm;
    this.#system = system;
    this.#pio = pio;
    this.name = pio ? "kvm-io" : "kvm-memory";
  }

  regionAdd(s: Section): void {
    const mr = s.mr;
    if (this.#pio || mr === null || mr.ramBlock === null || !(mr.ram || mr.isRomd)) return;
    const page = BigInt(this.#kvm.hostPageSize);
    const start = ((s.offsetWithinAddressSpace + page - 1n) / page) * page;
    const end = ((s.offsetWithinAddressSpace + s.size) / page) * page;
    if (end <= start) return;
    let flags = mr.readonly || mr.isRomd ? KVM_MEM_READONLY : 0;
    if (this.#system.dirtyLogMask(mr) !== 0) flags |= KVM_MEM_LOG_DIRTY_PAGES;
    const used = new Set(this.slots.map((slot) => slot.id));
    let id = 0;
    while (used.has(id)) id++;
    const userspaceAddr = mr.ramBlock.hostAddr + s.offsetWithinRegion + (start - s.offsetWithinAddressSpace);
    this.#kvm.setUserMemoryRegion({ slot: id, flags, guestPhysAddr: start, memorySize: end - start, userspaceAddr });
    this.slots.push({ id, gpa: start, size: end - start });
  }

  regionDel(s: Section): void {
    const page = BigInt(this.#kvm.hostPageSize);
    const start = ((s.offsetWithinAddressSpace + page - 1n) / page) * page;
    const at = this.slots.findIndex((slot) => slot.gpa === start);
    if (at < 0) return;
    const slot = this.slots[at]!;
    this.#kvm.setUserMemoryRegion({
      slot: slot.id,
      flags: 0,
      guestPhysAddr: slot.gpa,
      memorySize: 0n,
      userspaceAddr: 0n,
    });
    this.slots.splice(at, 1);
  }

  eventfdAdd(s: Section, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(s, matchData, data, notifier, 0);
  }

  eventfdDel(s: Section, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(s, matchData, data, notifier, KVM_IOEVENTFD_FLAG_DEASSIGN);
  }

  #ioeventfd(s: Section, matchData: boolean, data: bigint, notifier: EventNotifier, flags: number): void {
    this.#kvm.ioeventfd({
      addr: s.offsetWithinAddressSpace,
      len: Number(s.size),
      datamatch: matchData ? data : 0n,
      notifier,
      flags: flags | (matchData ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) | (this.#pio ? KVM_IOEVENTFD_FLAG_PIO : 0),
    });
  }
}

/** Attaches KVM to the demo machine's address spaces; `hasMemory` is QEMU's check behind the ` KVM` suffix. */
export function attachKvm(system: MemorySystem, machine: DemoMachine, kvm: KvmBackend) {
  const memory = new DemoKvmListener(kvm, system, false);
  system.registerListener(memory, machine.memory);
  system.registerListener(new DemoKvmListener(kvm, system, true), machine.io);
  return {
    hasMemory: (as: { name: string }, start: bigint, size: bigint): boolean =>
      as === (machine.memory as AddressSpace) && memory.slots.some((slot) => slot.gpa === start && slot.size === size),
  };
}
