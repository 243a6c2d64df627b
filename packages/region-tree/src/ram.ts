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
  /** The bytes, zero-copy. May be created on first use; throws a MemtopoError if the block cannot be mapped. */
  bytes(): Uint8Array;
  /** Give the memory back. The block must not be used afterwards. */
  release(): void;
}

/** Allocates the backing of RAM, ROM, ROM device and RAM device regions. */
export interface RamAllocator {
  allocate(name: string, size: bigint): RamBacking;
}

const PAGE = 0x1000n;

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
      let bytes: Uint8Array | null = null;
      let released = false;
      return {
        hostAddr,
        size,
        bytes(): Uint8Array {
          if (released) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
          if (bytes === null) {
            if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
              throw new MemtopoError("E_RAM_TOO_LARGE", `cannot back ${size} bytes of RAM on the JS heap`);
            }
            try {
              bytes = new Uint8Array(Number(size));
            } catch (cause) {
              throw new MemtopoError("E_RAM_TOO_LARGE", `cannot back ${size} bytes of RAM on the JS heap`, { cause });
            }
          }
          return bytes;
        },
        release(): void {
          released = true;
          bytes = null;
        },
      };
    },
  };
}
