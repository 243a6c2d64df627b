import type { MemoryListener } from "@memtopo/listener-bus";
import { type IoeventfdWidths, ioeventfdRequest } from "./ioeventfd-request.js";
import type { IoeventfdSync } from "./ioeventfd-sync.js";

/** A KVM listener's `eventfd_add` / `eventfd_del` pair. */
export type IoeventfdCallbacks = Required<Pick<MemoryListener, "eventfdAdd" | "eventfdDel">>;

/**
 * The callbacks of QEMU's `kvm_mem_ioeventfd_add/del` (flags 0, MMIO widths) and
 * `kvm_io_ioeventfd_add/del` (`KVM_IOEVENTFD_FLAG_PIO`, port widths): each section becomes a
 * `KVM_IOEVENTFD` request cut to `widths`, assigned or deassigned through `sync`, which keeps
 * what the kernel refused for its retry.
 */
export function ioeventfdCallbacks(sync: IoeventfdSync, flags: number, widths: IoeventfdWidths): IoeventfdCallbacks {
  return {
    eventfdAdd: (section, matchData, data, notifier) =>
      sync.apply(ioeventfdRequest(section, matchData, data, notifier, flags, widths), true),
    eventfdDel: (section, matchData, data, notifier) =>
      sync.apply(ioeventfdRequest(section, matchData, data, notifier, flags, widths), false),
  };
}
