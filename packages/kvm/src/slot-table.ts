/** What the table needs of a slot. */
export interface TableSlot {
  readonly id: number;
  readonly start: bigint;
  readonly size: bigint;
}

/**
 * A listener's memslots by kernel id. QEMU scans all of `nr_slots` (32764 on current
 * kernels) to find a slot or a free id; every section added or removed pays for that,
 * and so would every commit that looks for stale slots. The table answers the same
 * questions — the lowest free id, the live slot at exactly this start and size, the
 * stale slots in id order — from indexes kept up to date as slots come and go.
 */
export class SlotTable<S extends TableSlot> {
  readonly #byId: (S | null)[];
  /** Live slots by start: they mirror the view, so no two share a start. */
  readonly #live = new Map<bigint, S>();
  readonly #stale = new Set<S>();
  /** No id below this one is free. */
  #lowestFree = 0;

  constructor(capacity: number) {
    this.#byId = new Array<S | null>(capacity).fill(null);
  }

  get capacity(): number {
    return this.#byId.length;
  }

  /** Every slot the kernel holds, stale ones included, by id. */
  all(): S[] {
    return this.#byId.filter((s): s is S => s !== null);
  }

  /** Stale slots by id, the order in which they are deleted again. */
  staleSlots(): S[] {
    if (this.#stale.size === 0) return [];
    return [...this.#stale].sort((a, b) => a.id - b.id);
  }

  /** `kvm_lookup_matching_slot`: the live slot with exactly this start and size. */
  find(start: bigint, size: bigint): S | null {
    const slot = this.#live.get(start);
    return slot !== undefined && slot.size === size ? slot : null;
  }

  /** `kvm_get_free_slot`: the lowest free id, or -1 when every id is taken. */
  freeId(): number {
    let id = this.#lowestFree;
    while (id < this.#byId.length && this.#byId[id] !== null) id++;
    this.#lowestFree = id;
    return id < this.#byId.length ? id : -1;
  }

  /** Puts a live slot at its id, which must be free. */
  put(slot: S): void {
    this.#byId[slot.id] = slot;
    this.#live.set(slot.start, slot);
  }

  /** Frees the slot's id. */
  remove(slot: S): void {
    this.#byId[slot.id] = null;
    if (this.#live.get(slot.start) === slot) this.#live.delete(slot.start);
    this.#stale.delete(slot);
    if (slot.id < this.#lowestFree) this.#lowestFree = slot.id;
  }

  /** The view dropped the slot but the kernel refused to delete it. */
  markStale(slot: S): void {
    if (this.#live.get(slot.start) === slot) this.#live.delete(slot.start);
    this.#stale.add(slot);
  }

  /** Whether this very slot is at its id. */
  holds(slot: S): boolean {
    return this.#byId[slot.id] === slot;
  }
}
