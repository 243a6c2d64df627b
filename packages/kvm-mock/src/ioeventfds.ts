import {
  KVM_IOEVENTFD_FLAG_DATAMATCH,
  KVM_IOEVENTFD_FLAG_DEASSIGN,
  KVM_IOEVENTFD_FLAG_PIO,
  type KvmIoeventfd,
} from "@memtopo/kvm";
import { type EventNotifier, UINT64_MAX } from "@memtopo/region-tree";
import { kernelError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";

const OP = "KVM_IOEVENTFD";

/** `KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY`: the flag exists on every architecture and selects a third bus. */
export const KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY = 8;
const VALID_FLAGS =
  KVM_IOEVENTFD_FLAG_DATAMATCH |
  KVM_IOEVENTFD_FLAG_PIO |
  KVM_IOEVENTFD_FLAG_DEASSIGN |
  KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY;

/** The kernel I/O bus an ioeventfd sits on. */
export type IoeventfdBus = "mmio" | "pio" | "virtio-ccw";

/** A live ioeventfd as the kernel holds it. `wildcard` = registered without DATAMATCH. */
export interface MockIoeventfd {
  readonly bus: IoeventfdBus;
  readonly addr: bigint;
  /** 0 = any access length. */
  readonly len: number;
  readonly wildcard: boolean;
  /** 0 when `wildcard`. */
  readonly datamatch: bigint;
  readonly notifier: EventNotifier;
}

function busOf(flags: number): IoeventfdBus {
  if ((flags & KVM_IOEVENTFD_FLAG_PIO) !== 0) return "pio";
  if ((flags & KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY) !== 0) return "virtio-ccw";
  return "mmio";
}

/**
 * The ioeventfds of a VM with `kvm_assign_ioeventfd` / `kvm_deassign_ioeventfd`'s rules.
 * `isEventfd` tells whether a notifier stands for an eventfd this VM can use.
 */
export class IoeventfdTable {
  readonly #options: ResolvedOptions;
  readonly #isEventfd: (notifier: EventNotifier) => boolean;
  #entries: MockIoeventfd[] = [];

  constructor(options: ResolvedOptions, isEventfd: (notifier: EventNotifier) => boolean) {
    this.#options = options;
    this.#isEventfd = isEventfd;
  }

  list(): readonly MockIoeventfd[] {
    return this.#entries;
  }

  apply(request: KvmIoeventfd): void {
    if (!this.#options.ioeventfd) throw kernelError("ENOTTY", OP, "the kernel has no KVM_CAP_IOEVENTFD");
    if ((request.flags & KVM_IOEVENTFD_FLAG_DEASSIGN) !== 0) this.#deassign(request);
    else this.#assign(request);
  }

  #assign(request: KvmIoeventfd): void {
    const { addr, len, flags } = request;
    if (len !== 0 && len !== 1 && len !== 2 && len !== 4 && len !== 8) {
      throw kernelError("EINVAL", OP, `length ${len} is not 0, 1, 2, 4 or 8`);
    }
    if (len === 0 && !this.#options.ioeventfdAnyLength) {
      throw kernelError("EINVAL", OP, "length 0 needs KVM_CAP_IOEVENTFD_ANY_LENGTH");
    }
    if (addr + BigInt(len) > UINT64_MAX) throw kernelError("EINVAL", OP, `range 0x${addr.toString(16)}+${len} wraps`);
    if ((flags & ~VALID_FLAGS) !== 0) throw kernelError("EINVAL", OP, `unknown flags 0x${flags.toString(16)}`);
    const wildcard = (flags & KVM_IOEVENTFD_FLAG_DATAMATCH) === 0;
    if (len === 0 && !wildcard) throw kernelError("EINVAL", OP, "a length-0 ioeventfd cannot match data");
    this.#checkEventfd(request.notifier);

    const entry: MockIoeventfd = {
      bus: busOf(flags),
      addr,
      len,
      wildcard,
      datamatch: wildcard ? 0n : request.datamatch,
      notifier: request.notifier,
    };
    const clash = this.#entries.find((e) => collides(e, entry));
    if (clash !== undefined) {
      throw kernelError("EEXIST", OP, `${entry.bus} 0x${addr.toString(16)} len ${len} collides with an ioeventfd`);
    }
    this.#entries = [...this.#entries, entry];
  }

  #deassign(request: KvmIoeventfd): void {
    this.#checkEventfd(request.notifier);
    const bus = busOf(request.flags);
    const wildcard = (request.flags & KVM_IOEVENTFD_FLAG_DATAMATCH) === 0;
    const index = this.#entries.findIndex(
      (e) =>
        e.bus === bus &&
        e.notifier === request.notifier &&
        e.addr === request.addr &&
        e.len === request.len &&
        e.wildcard === wildcard &&
        (wildcard || e.datamatch === request.datamatch),
    );
    if (index < 0) {
      throw kernelError("ENOENT", OP, `no ${bus} ioeventfd at 0x${request.addr.toString(16)} len ${request.len}`);
    }
    this.#entries = this.#entries.filter((_, i) => i !== index);
  }

  #checkEventfd(notifier: EventNotifier): void {
    if (!this.#isEventfd(notifier)) {
      throw kernelError("EBADF", OP, `notifier ${notifier.id} is not an eventfd of this VM`);
    }
  }

  /** The ioeventfd a guest write of `len` bytes with `value` at `addr` on `bus` signals (`ioeventfd_in_range`). */
  match(bus: IoeventfdBus, addr: bigint, len: number, value: bigint): MockIoeventfd | undefined {
    return this.#entries.find(
      (e) =>
        e.bus === bus && e.addr === addr && (e.len === 0 || (e.len === len && (e.wildcard || e.datamatch === value))),
    );
  }
}

/**
 * `ioeventfd_check_collision`: same bus and address, and either side has length 0, or the
 * lengths are equal and either side is a wildcard or both match the same data. The eventfd
 * plays no part, so a second notifier cannot share a trigger.
 */
function collides(a: MockIoeventfd, b: MockIoeventfd): boolean {
  return (
    a.bus === b.bus &&
    a.addr === b.addr &&
    (a.len === 0 || b.len === 0 || (a.len === b.len && (a.wildcard || b.wildcard || a.datamatch === b.datamatch)))
  );
}
