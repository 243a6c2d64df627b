import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from "@memtopo/kvm";
import { hex } from "@memtopo/region-tree";
import type { MockIoeventfd } from "./ioeventfds.js";
import type { MockMemslot } from "./memslots.js";

/** A live slot in the `kvm-slots.json` format of the conformance cases. */
export interface SlotSnapshot {
  readonly gpa: string;
  readonly size: string;
  readonly flags: readonly ("readonly" | "log-dirty-pages")[];
  /** Present on every entry when some slot lies outside address space 0. */
  readonly as?: string;
}

/** A live ioeventfd in the `kvm-ioeventfds.json` format. */
export interface IoeventfdSnapshot {
  readonly space: "mmio" | "pio" | "virtio-ccw";
  readonly addr: string;
  readonly size: number;
  readonly datamatch: boolean;
  readonly data: string;
}

/** QEMU's names for KVM address spaces 0 and 1 on x86. */
export const KVM_ADDRESS_SPACE_NAMES: readonly string[] = ["memory", "KVM-SMRAM"];

export function slotSnapshot(
  slots: readonly MockMemslot[],
  asNames: readonly string[] = KVM_ADDRESS_SPACE_NAMES,
): SlotSnapshot[] {
  const withAs = slots.some((s) => s.asId !== 0);
  return [...slots]
    .sort((a, b) => compareBig(a.guestPhysAddr, b.guestPhysAddr) || a.asId - b.asId)
    .map((s) => {
      const flags: ("readonly" | "log-dirty-pages")[] = [];
      if ((s.flags & KVM_MEM_READONLY) !== 0) flags.push("readonly");
      if ((s.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0) flags.push("log-dirty-pages");
      const entry = { gpa: hex(s.guestPhysAddr), size: hex(s.memorySize), flags };
      return withAs ? { ...entry, as: asNames[s.asId] ?? String(s.asId) } : entry;
    });
}

export function ioeventfdSnapshot(entries: readonly MockIoeventfd[]): IoeventfdSnapshot[] {
  return entries
    .map((e) => ({
      space: e.bus,
      addr: hex(e.addr),
      size: e.len,
      datamatch: !e.wildcard,
      data: hex(e.datamatch),
      key: [e.addr, e.datamatch] as const,
    }))
    .sort(
      (a, b) =>
        (a.space < b.space ? -1 : a.space > b.space ? 1 : 0) ||
        compareBig(a.key[0], b.key[0]) ||
        a.size - b.size ||
        Number(a.datamatch) - Number(b.datamatch) ||
        compareBig(a.key[1], b.key[1]),
    )
    .map(({ key: _key, ...rest }) => rest);
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
