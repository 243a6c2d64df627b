import type { FlatRange, FlatView } from "@memtopo/flatview";
import type { EventNotifier, MemoryRegion } from "@memtopo/region-tree";

/**
 * QEMU's MemoryRegionSection: what a listener is told about a piece of an address
 * space. For topology callbacks during a commit, `fv` is the address space's view
 * *before* the commit (null the first time); replay sections carry the current view.
 * ioeventfd sections carry only `fv`, the address and the size (`mr` null, offset 0).
 */
export interface MemoryRegionSection {
  readonly mr: MemoryRegion | null;
  readonly fv: FlatView | null;
  readonly offsetWithinRegion: bigint;
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
  readonly readonly: boolean;
  readonly nonvolatile: boolean;
}

/** A section for a FlatRange (QEMU's `section_from_flat_range`). */
export function sectionFromFlatRange(range: FlatRange, fv: FlatView | null): MemoryRegionSection {
  return {
    mr: range.mr,
    fv,
    offsetWithinRegion: range.offsetInRegion,
    offsetWithinAddressSpace: range.start,
    size: range.size,
    readonly: range.readonly,
    nonvolatile: range.nonvolatile,
  };
}

/**
 * The address space a listener listens to, as the bus sees it: the facade's
 * AddressSpace satisfies this.
 */
export interface ListenedAddressSpace {
  readonly name: string;
}

/**
 * QEMU's MemoryListener. Every callback is optional. Listeners are ordered by
 * ascending `priority` (ties in registration order); "Reverse" callbacks
 * (`regionDel`, `logStop`, `logGlobalStop`, `eventfdAdd`, `coalescedIoDel`) walk
 * that order backwards — see `MEMORY_LISTENER_CALL` for the full table.
 */
export interface MemoryListener {
  /** For traces and messages. */
  readonly name?: string;
  /** Unsigned; KVM's listeners use 10. Defaults to 0. */
  readonly priority?: number;
  begin?(): void;
  commit?(): void;
  regionAdd?(section: MemoryRegionSection): void;
  regionDel?(section: MemoryRegionSection): void;
  regionNop?(section: MemoryRegionSection): void;
  logStart?(section: MemoryRegionSection, oldMask: number, newMask: number): void;
  logStop?(section: MemoryRegionSection, oldMask: number, newMask: number): void;
  /** `log_sync`: fetch the accelerator's dirty log of one section (Forward, sections of the listener's space). */
  logSync?(section: MemoryRegionSection): void;
  /** `log_sync_global`: for a listener that can only sync everything at once (KVM's dirty ring); `lastStage` on the final sync of a migration. */
  logSyncGlobal?(lastStage: boolean): void;
  /** `log_clear`: the dirty bits of the section were taken; an accelerator with manual protect re-protects those pages. */
  logClear?(section: MemoryRegionSection): void;
  logGlobalStart?(): void;
  logGlobalStop?(): void;
  logGlobalAfterSync?(): void;
  eventfdAdd?(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void;
  eventfdDel?(section: MemoryRegionSection, matchData: boolean, data: bigint, notifier: EventNotifier): void;
  coalescedIoAdd?(section: MemoryRegionSection, addr: bigint, len: bigint): void;
  coalescedIoDel?(section: MemoryRegionSection, addr: bigint, len: bigint): void;
}
