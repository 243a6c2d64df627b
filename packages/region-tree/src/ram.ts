import { MemtopoError } from "./errors.js";

/**
 * Guest RAM backing. A RAM-backed MemoryRegion owns one RamBlock; where its bytes
 * live is the allocator's business: an ArrayBuffer on the JS heap, or an mmap'd
 * range that a KVM backend can hand to the kernel. `hostAddr` is what a memslot's
 * `userspace_addr` is made from, so it must be stable and page aligned.
 */
export interface RamBacking {
  /** Host virtual address of byte 0 (a real pointer for native memory, a unique fake for JS memory). */
  readonly hostAddr: bigint;
  /** Length in bytes. */
  readonly size: bigint;
  /**
   * The bytes, zero-copy. May be created on first use; throws a MemtopoError if the block cannot be mapped
   * (E_RAM_TOO_LARGE: one view cannot hold a block over 4 GiB; use {@link bytesAt}).
   */
  bytes(): Uint8Array;
  /**
   * A zero-copy view of the bytes from `offset` on: `length` bytes, or fewer where the block ends.
   * A part of up to {@link RAM_VIEW_WHOLE} bytes always comes whole; a longer one may come cut where
   * the allocator's view of the block ends (callers that copy more loop). Works on blocks of any size.
   * Throws a MemtopoError: E_RAM_RANGE (offset outside the block, length not a non-negative integer),
   * E_RAM_RELEASED, or E_RAM_TOO_LARGE when the memory cannot be viewed.
   */
  bytesAt(offset: bigint, length: number): Uint8Array;
  /**
   * Gives the host memory of `[offset, offset + length)` back while the block lives on
   * (QEMU's `ram_block_discard_range`, what virtio-mem's unplug does): the range reads as
   * zeros afterwards. Both bounds are multiples of 4 KiB, except that the range may end at
   * the block's end. Throws a MemtopoError: E_RAM_RANGE, E_RAM_RELEASED, or E_RAM_DISCARD
   * when the host refuses. Optional: an allocator that cannot give memory back leaves it out,
   * and its callers zero the range instead.
   */
  discard?(offset: bigint, length: bigint): void;
  /** Give the memory back. The block must not be used afterwards. */
  release(): void;
}

/** Allocates the backing of RAM, ROM, ROM device and RAM device regions. */
export interface RamAllocator {
  allocate(name: string, size: bigint): RamBacking;
}

const PAGE = 0x1000n;

/** The longest part {@link RamBacking.bytesAt} never cuts (except at the block's end): 1 GiB. */
export const RAM_VIEW_WHOLE = 2 ** 30;

/**
 * Checks a {@link RamBacking.bytesAt} request against a block of `size` bytes and returns
 * how many bytes the view has: `length` clamped to the block's end.
 */
export function ramViewLength(size: bigint, offset: bigint, length: number): number {
  if (typeof offset !== "bigint" || offset < 0n || offset >= size) {
    const got = typeof offset === "bigint" ? `0x${offset.toString(16)}` : typeof offset;
    throw new MemtopoError("E_RAM_RANGE", `offset ${got} is outside the RAM block's 0x${size.toString(16)} bytes`);
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new MemtopoError(
      "E_RAM_RANGE",
      `length must be a non-negative integer, got ${typeof length === "number" ? length : typeof length}`,
    );
  }
  const left = size - offset;
  return left < BigInt(length) ? Number(left) : length;
}

/**
 * Checks a {@link RamBacking.discard} request against a block of `size` bytes: page-aligned
 * bounds (the end may be the block's end), inside the block, not empty.
 */
export function checkRamDiscard(size: bigint, offset: bigint, length: bigint): void {
  const show = (v: unknown) => (typeof v === "bigint" ? `0x${v.toString(16)}` : typeof v);
  if (typeof offset !== "bigint" || typeof length !== "bigint" || offset < 0n || length <= 0n) {
    throw new MemtopoError(
      "E_RAM_RANGE",
      `discard needs a bigint offset and a positive bigint length, got ${show(offset)} and ${show(length)}`,
    );
  }
  const end = offset + length;
  if (end > size || offset % PAGE !== 0n || (end % PAGE !== 0n && end !== size)) {
    throw new MemtopoError(
      "E_RAM_RANGE",
      `discard of ${show(offset)}+${show(length)} is not whole 4 KiB pages of the block's 0x${size.toString(16)} bytes`,
    );
  }
}

/**
 * The default allocator: JS-heap memory created on first access, so that a map
 * with gigabytes of RAM can be built, rendered and printed without touching it.
 * Host addresses are unique page-aligned stand-ins (no real pointer exists).
 */
export function lazyRamAllocator(): RamAllocator {
  let nextHostAddr = 0x7f0000000000n;
  return {
    allocate(_name: string, size: bigint): RamBacking {
      const hostAddr = nextHostAddr;
      nextHostAddr += ((size + PAGE - 1n) / PAGE) * PAGE + PAGE;
      return new LazyRamBlock(hostAddr, size);
    },
  };
}

/**
 * A block of {@link lazyRamAllocator}: an object of four fields, its methods shared (a block of closures was
 * 400 bytes per RAM region before it was touched, half the heap of a million-region machine file).
 */
class LazyRamBlock implements RamBacking {
  readonly hostAddr: bigint;
  readonly size: bigint;
  #bytes: Uint8Array | null = null;
  #released = false;

  constructor(hostAddr: bigint, size: bigint) {
    this.hostAddr = hostAddr;
    this.size = size;
  }

  bytes(): Uint8Array {
    if (this.#released) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
    if (this.#bytes === null) {
      const size = this.size;
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new MemtopoError("E_RAM_TOO_LARGE", `cannot back ${size} bytes of RAM on the JS heap`);
      }
      try {
        this.#bytes = new Uint8Array(Number(size));
      } catch (cause) {
        throw new MemtopoError("E_RAM_TOO_LARGE", `cannot back ${size} bytes of RAM on the JS heap`, { cause });
      }
    }
    return this.#bytes;
  }

  bytesAt(offset: bigint, length: number): Uint8Array {
    const n = ramViewLength(this.size, offset, length);
    const start = Number(offset);
    return this.bytes().subarray(start, start + n);
  }

  // The JS heap cannot give part of an ArrayBuffer back, and views of the bytes may be
  // held: the range is zeroed in place (a block never touched stays unallocated).
  discard(offset: bigint, length: bigint): void {
    if (this.#released) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
    checkRamDiscard(this.size, offset, length);
    this.#bytes?.fill(0, Number(offset), Number(offset + length));
  }

  release(): void {
    this.#released = true;
    this.#bytes = null;
  }
}
