import { describeValue, MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { MigrationError } from "../errors.js";
import { refuseWhileMigrating } from "./migration-guard.js";

const PAGE = 0x1000n;

/**
 * QEMU's device-memory area with pc-dimm devices plugged into it: `container` is a
 * container region the board maps where hotplugged RAM goes (pc's "device-memory" above
 * 4 GiB); each {@link plug} makes a RAM region (allocated by the system's RAM allocator,
 * so on KVM a memslot maps it) and adds it in one commit, first fit at `align` unless an
 * address is given (`memory_device_get_free_addr`); {@link unplug} removes it and releases its
 * host memory. Both are refused (E_HOTPLUG_MIGRATING) while a migration of the system runs.
 */
export class DimmSlots {
  readonly #system: MemorySystem;
  readonly container: MemoryRegion;
  readonly #align: bigint;
  readonly #dimms = new Set<MemoryRegion>();

  constructor(system: MemorySystem, container: MemoryRegion, options: { align?: bigint } = {}) {
    if (!(container instanceof MemoryRegion) || container.kind !== "container" || container.host !== system) {
      throw new MigrationError("E_INVALID_ARGUMENT", "the hotplug area is a container region of this system");
    }
    const align = options.align ?? 0x20_0000n;
    if (typeof align !== "bigint" || align < PAGE || (align & (align - 1n)) !== 0n) {
      throw new MigrationError("E_INVALID_ARGUMENT", "align must be a power of two of at least a page", {
        path: "options.align",
      });
    }
    this.#system = system;
    this.container = container;
    this.#align = align;
  }

  /** The plugged DIMMs, by address. */
  get dimms(): readonly MemoryRegion[] {
    return [...this.#dimms].sort((a, b) => (a.addr < b.addr ? -1 : 1));
  }

  /** Plugs a DIMM of `size` bytes (a multiple of the page) named `name`, at `addr` in the area or the first free aligned place. */
  plug(name: string, size: bigint, addr?: bigint): MemoryRegion {
    if (typeof name !== "string" || name.length === 0)
      throw new MigrationError("E_INVALID_ARGUMENT", "a DIMM needs a name", { path: "name" });
    if (typeof size !== "bigint" || size <= 0n || size % PAGE !== 0n) {
      throw new MigrationError(
        "E_HOTPLUG_RANGE",
        `DIMM size must be a positive multiple of 4 KiB, got ${describeValue(size)}`,
        { path: "size" },
      );
    }
    // Before any placement, as QEMU's device_add refuses before the device exists.
    refuseWhileMigrating(this.#system, `plugging DIMM "${name}"`);
    const at = addr === undefined ? this.#freeAddr(size) : this.#checkAddr(addr, size);
    const dimm = new MemoryRegion(this.#system, { kind: "ram", name, size });
    try {
      this.container.addSubregion(at, dimm);
    } catch (error) {
      dimm.ramBlock?.release();
      throw error;
    }
    this.#dimms.add(dimm);
    return dimm;
  }

  /**
   * Unplugs a DIMM: its memslot goes in one commit, then its host memory is discarded and the
   * block released (the discard returns the memory even while another holder, a vCPU
   * thread's share, keeps the mapping).
   */
  unplug(dimm: MemoryRegion): void {
    if (!this.#dimms.has(dimm))
      throw new MigrationError("E_HOTPLUG_UNKNOWN", `${describeValue(dimm?.name)} is not a DIMM plugged here`);
    refuseWhileMigrating(this.#system, `unplugging DIMM "${dimm.name}"`);
    this.container.delSubregion(dimm);
    this.#dimms.delete(dimm);
    const block = dimm.ramBlock!;
    block.discard?.(0n, block.size);
    block.release();
  }

  #checkAddr(addr: bigint, size: bigint): bigint {
    if (typeof addr !== "bigint" || addr < 0n || addr % this.#align !== 0n || addr + size > this.container.size) {
      throw new MigrationError(
        "E_HOTPLUG_RANGE",
        `address ${String(addr)} is not ${this.#align}-aligned or 0x${size.toString(16)} bytes from it leave the area`,
        { path: "addr" },
      );
    }
    for (const d of this.#dimms) {
      if (addr < d.addr + d.size && d.addr < addr + size) {
        throw new MigrationError(
          "E_HOTPLUG_RANGE",
          `0x${addr.toString(16)}+0x${size.toString(16)} overlaps DIMM "${d.name}"`,
          { path: "addr" },
        );
      }
    }
    return addr;
  }

  #freeAddr(size: bigint): bigint {
    let at = 0n;
    for (const d of this.dimms) {
      if (at + size <= d.addr) break;
      const end = d.addr + d.size;
      if (end > at) at = ((end + this.#align - 1n) / this.#align) * this.#align;
    }
    if (at + size > this.container.size) {
      throw new MigrationError("E_HOTPLUG_RANGE", `no free 0x${size.toString(16)} bytes left in the hotplug area`, {
        path: "size",
      });
    }
    return at;
  }
}
