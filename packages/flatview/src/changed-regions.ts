import type { MemoryRegion } from "@memtopo/region-tree";

/** Up to this many regions, membership is a scan of the list; past it, a Set made then. */
const SCAN_LIMIT = 32;

/**
 * The regions announced in one commit, each once, with where it was placed when first announced
 * (its container, `addr` and `size` then): columns reused from commit to commit, so that announcing
 * the 26 aliases of a PAM toggle allocates nothing. Emptied at every reset; it keeps no region
 * between commits.
 */
export class ChangedRegions {
  #count = 0;
  readonly #regions: (MemoryRegion | null)[] = [];
  readonly #containers: (MemoryRegion | null)[] = [];
  readonly #addrs: bigint[] = [];
  readonly #sizes: bigint[] = [];
  /** Membership once the list is past {@link SCAN_LIMIT}. */
  #members: Set<MemoryRegion> | null = null;

  get count(): number {
    return this.#count;
  }

  /** Records `mr` and its placement now, unless it was already announced in this commit. */
  add(mr: MemoryRegion): void {
    if (this.#has(mr)) return;
    const k = this.#count++;
    this.#regions[k] = mr;
    this.#containers[k] = mr.container;
    this.#addrs[k] = mr.addr;
    this.#sizes[k] = mr.size;
    this.#members?.add(mr);
  }

  region(k: number): MemoryRegion {
    return this.#regions[k]!;
  }
  wasContainer(k: number): MemoryRegion | null {
    return this.#containers[k]!;
  }
  wasAddr(k: number): bigint {
    return this.#addrs[k]!;
  }
  wasSize(k: number): bigint {
    return this.#sizes[k]!;
  }

  clear(): void {
    for (let k = 0; k < this.#count; k++) {
      this.#regions[k] = null;
      this.#containers[k] = null;
    }
    this.#count = 0;
    this.#members = null;
  }

  #has(mr: MemoryRegion): boolean {
    if (this.#members !== null) return this.#members.has(mr);
    const n = this.#count;
    if (n < SCAN_LIMIT) {
      for (let k = 0; k < n; k++) if (this.#regions[k] === mr) return true;
      return false;
    }
    const members = new Set<MemoryRegion>();
    for (let k = 0; k < n; k++) members.add(this.#regions[k]!);
    this.#members = members;
    return members.has(mr);
  }
}
