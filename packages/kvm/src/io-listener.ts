import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";
import { KVM_IOEVENTFD_FLAG_DEASSIGN, KVM_IOEVENTFD_FLAG_PIO, type KvmBackend } from "./backend.js";
import { ioeventfdRequest } from "./ioeventfd-request.js";

/**
 * QEMU 7.2's `kvm_io_listener` on the `I/O` address space: ioeventfds become PIO
 * `KVM_IOEVENTFD`s. The port is taken as 16 bits and the data as 16 bits, as QEMU's
 * `kvm_set_ioeventfd_pio` does.
 */
export class KvmIoListener implements MemoryListener {
  readonly name = "kvm-io";
  readonly priority = 10;
  readonly #backend: KvmBackend;

  constructor(backend: KvmBackend) {
    this.#backend = backend;
  }

  eventfdAdd(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(section, matchData, data, notifier, 0);
  }

  eventfdDel(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(section, matchData, data, notifier, KVM_IOEVENTFD_FLAG_DEASSIGN);
  }

  #ioeventfd(
    section: MemoryRegionSection,
    matchData: boolean,
    data: bigint,
    notifier: EventNotifier,
    flags: number,
  ): void {
    this.#backend.ioeventfd(
      ioeventfdRequest(section, matchData, data, notifier, flags | KVM_IOEVENTFD_FLAG_PIO, {
        addrBits: 16,
        dataBits: 16,
      }),
    );
  }
}
