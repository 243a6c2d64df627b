import type { KvmBackend } from "./backend.js";
import { KvmError } from "./errors.js";

/** Reaped entries of one KVM address space: slot ids (without the address-space bits) and page offsets. */
export type DirtyRingMarks = (entries: readonly { readonly id: number; readonly offset: bigint }[]) => void;

/**
 * QEMU's `kvm_dirty_ring_reap`: the dirty rings belong to the VM's vCPUs, not to one memory
 * listener, so one reaper per VM hands each reaped entry to the listener of its KVM address
 * space (the `memory` one and the SMRAM one share it) and then asks the kernel to re-protect
 * what was collected (KVM_RESET_DIRTY_RINGS), only when something was.
 */
export class DirtyRingReaper {
  readonly #backend: KvmBackend;
  readonly #marks = new Map<number, DirtyRingMarks>();

  constructor(backend: KvmBackend) {
    if (
      (backend.dirtyRingSize ?? 0) <= 0 ||
      backend.reapDirtyRings === undefined ||
      backend.resetDirtyRings === undefined
    ) {
      throw new KvmError("ENXIO", "DirtyRingReaper", `backend ${backend.name} has no dirty ring enabled`);
    }
    this.#backend = backend;
  }

  /** Where the entries of KVM address space `asId` go; one listener per address space. */
  register(asId: number, marks: DirtyRingMarks): void {
    if (this.#marks.has(asId)) {
      throw new KvmError(
        "EEXIST",
        "DirtyRingReaper",
        `address space ${asId} already has a listener reaping its ring entries`,
      );
    }
    this.#marks.set(asId, marks);
  }

  /** Reaps every ring; entries of an address space nobody registered are dropped, as QEMU drops unknown slots. */
  reap(): number {
    const entries = this.#backend.reapDirtyRings!();
    if (entries.length === 0) return 0;
    const byAs = new Map<number, { id: number; offset: bigint }[]>();
    for (const e of entries) {
      const asId = e.slot >>> 16;
      let list = byAs.get(asId);
      if (list === undefined) {
        list = [];
        byAs.set(asId, list);
      }
      list.push({ id: e.slot & 0xffff, offset: e.offset });
    }
    for (const [asId, list] of byAs) this.#marks.get(asId)?.(list);
    this.#backend.resetDirtyRings!();
    return entries.length;
  }
}
