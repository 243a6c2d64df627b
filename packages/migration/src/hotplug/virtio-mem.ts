import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";
import { MigrationError } from "../errors.js";
import { discardRamRange } from "../ram-pages.js";
import { refuseWhileMigrating } from "./migration-guard.js";

/**
 * A virtio-mem-like device: one RAM block of `size` bytes behind a container the board
 * maps, of which the guest gets blocks of `blockSize` plugged and unplugged. Each block is
 * an alias of the RAM block, enabled while plugged, so the flat view (and the memslots
 * that follow it) shows exactly the plugged blocks, adjacent ones merged into one range
 * (QEMU's dynamic memslots for virtio-mem do the same at a coarser grain). An unplugged
 * block's host memory is given back (`virtio_mem_unplug_sb` discards it), so it reads as
 * zeros when plugged again, as virtio-mem promises.
 */
export class VirtioMem {
  readonly #system: MemorySystem;
  /** What the board maps: a container of `size` bytes. */
  readonly region: MemoryRegion;
  /** The RAM block the blocks alias. */
  readonly memory: MemoryRegion;
  readonly blockSize: bigint;
  readonly #blocks: MemoryRegion[];

  constructor(system: MemorySystem, options: { name: string; size: bigint; blockSize: bigint }) {
    const { name, size, blockSize } = options ?? ({} as typeof options);
    if (typeof name !== "string" || name.length === 0)
      throw new MigrationError("E_INVALID_ARGUMENT", "a virtio-mem device needs a name", { path: "name" });
    if (typeof blockSize !== "bigint" || blockSize < 0x1000n || (blockSize & (blockSize - 1n)) !== 0n) {
      throw new MigrationError("E_INVALID_ARGUMENT", "blockSize must be a power of two of at least 4 KiB", {
        path: "blockSize",
      });
    }
    if (typeof size !== "bigint" || size <= 0n || size % blockSize !== 0n || size / blockSize > 65_536n) {
      throw new MigrationError(
        "E_INVALID_ARGUMENT",
        "size must be a positive multiple of blockSize, at most 65536 blocks",
        { path: "size" },
      );
    }
    this.#system = system;
    this.blockSize = blockSize;
    this.region = new MemoryRegion(system, { kind: "container", name, size });
    this.memory = new MemoryRegion(system, { kind: "ram", name: `${name}.ram`, size });
    const count = Number(size / blockSize);
    this.#blocks = [];
    system.begin();
    try {
      for (let i = 0; i < count; i++) {
        const offset = BigInt(i) * blockSize;
        const block = new MemoryRegion(system, {
          kind: "alias",
          name: `${name}.block`,
          target: this.memory,
          offset,
          size: blockSize,
        });
        block.setEnabled(false);
        this.region.addSubregion(offset, block);
        this.#blocks.push(block);
      }
    } finally {
      system.commit();
    }
  }

  /** Which blocks are plugged, by index. */
  get plugged(): boolean[] {
    return this.#blocks.map((b) => b.enabled);
  }

  /** Plugs the blocks of [offset, offset + size) in one commit (VIRTIO_MEM_REQ_PLUG); every one must be unplugged. */
  plug(offset: bigint, size: bigint): void {
    const [first, count] = this.#range(offset, size, false);
    refuseWhileMigrating(this.#system, "a virtio-mem plug request");
    this.#set(first, count, true);
  }

  /**
   * Unplugs the blocks of [offset, offset + size) in one commit (VIRTIO_MEM_REQ_UNPLUG); every
   * one must be plugged. Their memslots go first, then their host memory.
   */
  unplug(offset: bigint, size: bigint): void {
    const [first, count] = this.#range(offset, size, true);
    refuseWhileMigrating(this.#system, "a virtio-mem unplug request");
    this.#set(first, count, false);
    discardRamRange(this.memory, offset, size);
  }

  #set(first: number, count: number, on: boolean): void {
    this.#system.begin();
    try {
      for (let i = first; i < first + count; i++) this.#blocks[i]!.setEnabled(on);
    } finally {
      this.#system.commit();
    }
  }

  #range(offset: bigint, size: bigint, plugged: boolean): [number, number] {
    const bs = this.blockSize;
    if (
      typeof offset !== "bigint" ||
      typeof size !== "bigint" ||
      size <= 0n ||
      offset % bs !== 0n ||
      size % bs !== 0n
    ) {
      throw new MigrationError(
        "E_HOTPLUG_BLOCK",
        `[${String(offset)}, +${String(size)}) is not whole blocks of 0x${bs.toString(16)}`,
      );
    }
    if (offset < 0n || offset + size > this.memory.size) {
      throw new MigrationError(
        "E_HOTPLUG_BLOCK",
        `[0x${offset.toString(16)}, +0x${size.toString(16)}) is outside the device's 0x${this.memory.size.toString(16)} bytes`,
      );
    }
    const first = Number(offset / bs);
    const count = Number(size / bs);
    for (let i = first; i < first + count; i++) {
      if (this.#blocks[i]!.enabled !== plugged) {
        throw new MigrationError("E_HOTPLUG_BLOCK", `block ${i} is ${plugged ? "not plugged" : "plugged already"}`);
      }
    }
    return [first, count];
  }
}
