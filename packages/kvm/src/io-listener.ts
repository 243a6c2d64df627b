import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import type { EventNotifier } from "@memtopo/region-tree";
import { KVM_IOEVENTFD_FLAG_PIO, type KvmBackend } from "./backend.js";
import { ioeventfdRequest } from "./ioeventfd-request.js";
import { IoeventfdSync } from "./ioeventfd-sync.js";

/**
 * QEMU 7.2's `kvm_io_listener` on the `I/O` address space: ioeventfds become PIO
 * `KVM_IOEVENTFD`s. The port is taken as 16 bits and the data as 16 bits, as QEMU's
 * `kvm_set_ioeventfd_pio` does, then byte-swapped for a big-endian guest. A call the kernel refused is thrown and redone at the
 * start of the next commit that reaches this listener.
 */
export class KvmIoListener implements MemoryListener {
  readonly name = "kvm-io";
  readonly priority = 10;
  readonly #eventfds: IoeventfdSync;
  readonly #targetBigEndian: boolean;

  constructor(backend: KvmBackend, options: { readonly targetBigEndian?: boolean } = {}) {
    this.#eventfds = new IoeventfdSync(backend);
    this.#targetBigEndian = options.targetBigEndian === true;
  }

  /** Refused KVM_IOEVENTFD calls still to redo; 0 when the kernel matches the address space. */
  get pending(): number {
    return this.#eventfds.pending;
  }

  /** Redoes refused calls now; throws what fails again (all of it, see `throwFailures`). */
  recover(): void {
    this.#eventfds.retry();
  }

  begin(): void {
    this.recover();
  }

  eventfdAdd(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(section, matchData, data, notifier, true);
  }

  eventfdDel(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void {
    this.#ioeventfd(section, matchData, data, notifier, false);
  }

  #ioeventfd(
    section: MemoryRegionSection,
    matchData: boolean,
    data: bigint,
    notifier: EventNotifier,
    assign: boolean,
  ): void {
    const request = ioeventfdRequest(section, matchData, data, notifier, KVM_IOEVENTFD_FLAG_PIO, {
      addrBits: 16,
      dataBits: 16,
      targetBigEndian: this.#targetBigEndian,
    });
    this.#eventfds.apply(request, assign);
  }
}
