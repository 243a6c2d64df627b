import type { CoalescedRange } from "./coalesced.js";
import { lazyRamAllocator, type RamAllocator } from "./ram.js";
import type { MemoryRegion } from "./region.js";

/**
 * What a MemoryRegion needs from the system it belongs to. Every mutator runs
 * inside `begin()`/`commit()` and reports what it made pending, exactly as QEMU's
 * mutators open their own transaction; the facade's MemorySystem implements this
 * and does the commit work. There is no global: each host is one machine.
 */
export interface RegionHost {
  begin(): void;
  commit(): void;
  /**
   * Called inside the mutator's transaction just before a change to `mr` that makes
   * `topologyChanged()` follow: where `mr`'s subtree renders (its window through every
   * path, and its attributes) may change. A host that re-renders incrementally records
   * `mr` here and where it rendered before the change; QEMU has no such hook because it
   * re-renders everything.
   */
  topologyWillChange?(mr: MemoryRegion): void;
  /** QEMU's `memory_region_update_pending`: views must be re-rendered at the outermost commit. */
  topologyChanged(): void;
  /**
   * QEMU's `ioeventfd_update_pending`: `mr`'s own ioeventfd list changed. A host that knows which
   * region it was collects again only where that region shows; without it, everywhere.
   */
  ioeventfdsChanged(mr?: MemoryRegion): void;
  /**
   * `memory_region_add_coalescing` / `_clear_coalescing` tell listeners at once, outside any
   * transaction: `range` of `mr` was added (`coalesced_io_add` on every FlatRange of `mr`) or
   * removed (`coalesced_io_del`). A host without listeners may leave it out.
   */
  coalescingChanged?(mr: MemoryRegion, range: CoalescedRange, added: boolean): void;
  /** `qemu_flush_coalesced_mmio_buffer`: replay the writes the accelerator has held back. */
  flushCoalescedMmio?(): void;
  readonly ramAllocator: RamAllocator;
  /** The target's byte order decides `native`-endian devices and ioeventfd data conversion. */
  readonly targetBigEndian: boolean;
}

/**
 * A host for trees used on their own (render, print, inspect): it counts pending
 * work but commits nothing. Its `pending` flags let a caller see what a mutation did.
 */
export class StandaloneHost implements RegionHost {
  depth = 0;
  topologyPending = false;
  ioeventfdPending = false;
  readonly ramAllocator: RamAllocator;
  readonly targetBigEndian: boolean;

  constructor(options: { ramAllocator?: RamAllocator; targetBigEndian?: boolean } = {}) {
    this.ramAllocator = options.ramAllocator ?? lazyRamAllocator();
    this.targetBigEndian = options.targetBigEndian ?? false;
  }

  /** Set this to observe changes before they happen (see {@link RegionHost.topologyWillChange}). */
  topologyWillChange?(mr: MemoryRegion): void;

  begin(): void {
    this.depth++;
  }

  commit(): void {
    this.depth--;
  }

  topologyChanged(): void {
    this.topologyPending = true;
  }

  ioeventfdsChanged(): void {
    this.ioeventfdPending = true;
  }
}
