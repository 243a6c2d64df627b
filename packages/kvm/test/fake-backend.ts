import type { MemoryRegionSection } from "@memtopo/listener-bus";
import type { MemoryRegion } from "@memtopo/region-tree";
import {
  KVM_CAP,
  type KvmBackend,
  type KvmCoalescedMmioZone,
  KvmError,
  type KvmIoeventfd,
  type KvmUserspaceMemoryRegion,
} from "../src/index.js";

/**
 * A backend that records calls and answers capabilities; the kernel's own rules are
 * `@memtopo/kvm-mock`'s job (tested with this listener in the facade's tests).
 */
export class RecordingBackend implements KvmBackend {
  readonly name = "recording";
  readonly hostPageSize = 4096;
  readonly regions: KvmUserspaceMemoryRegion[] = [];
  readonly ioeventfds: KvmIoeventfd[] = [];
  readonly caps = new Map<number, number>([
    [KVM_CAP.NR_MEMSLOTS, 32764],
    [KVM_CAP.READONLY_MEM, 1],
    [KVM_CAP.IOEVENTFD, 1],
  ]);
  dirty = new Uint8Array(8);
  /** Coalescing calls as `+mmio addr+size` / `-pio addr+size`. */
  readonly zones: string[] = [];
  /** Calls still to refuse, per method: each refused call throws EIO and is not recorded. */
  readonly refuse = { setUserMemoryRegion: 0, ioeventfd: 0 };

  checkExtension(cap: number): number {
    return this.caps.get(cap) ?? 0;
  }
  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void {
    this.#maybeRefuse("setUserMemoryRegion");
    this.regions.push(region);
  }
  ioeventfd(request: KvmIoeventfd): void {
    this.#maybeRefuse("ioeventfd");
    this.ioeventfds.push(request);
  }
  registerCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    this.zones.push(`+${zone.pio ? "pio" : "mmio"} ${zone.addr.toString(16)}+${zone.size.toString(16)}`);
  }
  unregisterCoalescedMmio(zone: KvmCoalescedMmioZone): void {
    this.zones.push(`-${zone.pio ? "pio" : "mmio"} ${zone.addr.toString(16)}+${zone.size.toString(16)}`);
  }
  #maybeRefuse(method: keyof RecordingBackend["refuse"]): void {
    if (this.refuse[method] === 0) return;
    this.refuse[method]--;
    throw new KvmError("EIO", method, "refused by the test");
  }
  getDirtyLog(): Uint8Array {
    const out = this.dirty;
    this.dirty = new Uint8Array(8);
    return out;
  }
  /** The calls as `slot gpa+size flags` strings. */
  get log(): string[] {
    return this.regions.map(
      (r) => `${r.slot} ${r.guestPhysAddr.toString(16)}+${r.memorySize.toString(16)} f${r.flags}`,
    );
  }
}

export function section(
  mr: MemoryRegion,
  start: bigint,
  size: bigint,
  offset = 0n,
  readonly = false,
): MemoryRegionSection {
  return {
    mr,
    fv: null,
    offsetWithinRegion: offset,
    offsetWithinAddressSpace: start,
    size,
    readonly,
    nonvolatile: false,
  };
}
