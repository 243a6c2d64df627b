import type { MemoryListener } from "@memtopo/listener-bus";
import { KVM_IOEVENTFD_FLAG_PIO, type KvmBackend } from "./backend.js";
import { type IoeventfdCallbacks, ioeventfdCallbacks } from "./ioeventfd-callbacks.js";
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
  /** `kvm_io_ioeventfd_add/del`. */
  readonly eventfdAdd: IoeventfdCallbacks["eventfdAdd"];
  readonly eventfdDel: IoeventfdCallbacks["eventfdDel"];

  constructor(backend: KvmBackend, options: { readonly targetBigEndian?: boolean } = {}) {
    this.#eventfds = new IoeventfdSync(backend);
    const callbacks = ioeventfdCallbacks(this.#eventfds, KVM_IOEVENTFD_FLAG_PIO, {
      addrBits: 16,
      dataBits: 16,
      targetBigEndian: options.targetBigEndian === true,
    });
    this.eventfdAdd = callbacks.eventfdAdd;
    this.eventfdDel = callbacks.eventfdDel;
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
}
