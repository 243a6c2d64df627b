import type { RamAllocator, RamBacking } from "@memtopo/region-tree";
import { checkRamDiscard, lazyRamAllocator, MemtopoError } from "@memtopo/region-tree";
import { MockKvmUsageError } from "./errors.js";

const PAGE = 4096n;

/**
 * The simulated process's memory, as guest accesses through a memslot see it. Blocks
 * registered from a {@link RamAllocator} are read and written in place (so a guest write
 * shows up in the MemoryRegion's bytes); any other user address behaves like anonymous
 * memory that is zero until written.
 */
export class HostMemory {
  #blocks: RamBacking[] = [];
  readonly #anonymous = new Map<bigint, Uint8Array>();
  #discarded = 0n;

  /** An allocator whose blocks (made by `inner`) guest accesses reach directly. */
  allocator(inner: RamAllocator = lazyRamAllocator()): RamAllocator {
    return {
      allocate: (name: string, size: bigint): RamBacking => {
        const block = inner.allocate(name, size);
        this.register(block);
        return {
          hostAddr: block.hostAddr,
          size: block.size,
          bytes: () => block.bytes(),
          bytesAt: (offset: bigint, length: number) => block.bytesAt(offset, length),
          discard: (offset: bigint, length: bigint) => this.#discard(block, offset, length),
          release: () => {
            this.#blocks = this.#blocks.filter((b) => b !== block);
            block.release();
          },
        };
      },
    };
  }

  /** Makes guest accesses to `[block.hostAddr, +block.size)` use the block's bytes. */
  register(block: RamBacking): void {
    if (typeof block?.bytes !== "function" || typeof block.hostAddr !== "bigint" || typeof block.size !== "bigint") {
      throw new MockKvmUsageError("expected a RamBacking", "block");
    }
    const clash = this.#blocks.find(
      (b) => block.hostAddr < b.hostAddr + b.size && b.hostAddr < block.hostAddr + block.size,
    );
    if (clash !== undefined) {
      throw new MockKvmUsageError(`host range 0x${block.hostAddr.toString(16)} overlaps a registered block`, "block");
    }
    this.#blocks = [...this.#blocks, block];
  }

  /**
   * `ram_block_discard_range` on the simulated process: the block's own discard when it has
   * one, else its range zeroed; guest reads through a memslot then see zeros. Counted in
   * {@link discardedBytes}, the mock's stand-in for the RSS a real discard returns.
   */
  #discard(block: RamBacking, offset: bigint, length: bigint): void {
    if (!this.#blocks.includes(block)) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
    checkRamDiscard(block.size, offset, length);
    if (block.discard !== undefined) block.discard(offset, length);
    else {
      for (let done = 0n; done < length; ) {
        const part = block.bytesAt(offset + done, Number(length - done < 0x4000_0000n ? length - done : 0x4000_0000n));
        part.fill(0);
        done += BigInt(part.length);
      }
    }
    this.#discarded += length;
  }

  /** Bytes given back by discards so far. */
  get discardedBytes(): bigint {
    return this.#discarded;
  }

  write(hostAddr: bigint, data: Uint8Array): void {
    this.#each(hostAddr, data.length, (target, offset, done) => {
      target.set(data.subarray(done, done + Math.min(target.length - offset, data.length - done)), offset);
    });
  }

  read(hostAddr: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.#each(hostAddr, length, (source, offset, done) => {
      const n = Math.min(source.length - offset, length - done);
      out.set(source.subarray(offset, offset + n), done);
    });
    return out;
  }

  /** Walks `[hostAddr, +length)` in pieces that lie in one block or one anonymous page. */
  #each(hostAddr: bigint, length: number, visit: (bytes: Uint8Array, offset: number, done: number) => void): void {
    let done = 0;
    while (done < length) {
      const addr = hostAddr + BigInt(done);
      const block = this.#blocks.find((b) => addr >= b.hostAddr && addr < b.hostAddr + b.size);
      let bytes: Uint8Array;
      let offset: number;
      if (block !== undefined) {
        // A view of the part only: a block over 4 GiB has no whole view.
        bytes = block.bytesAt(addr - block.hostAddr, length - done);
        offset = 0;
      } else {
        const base = addr - (addr % PAGE);
        bytes = this.#anonymous.get(base) ?? new Uint8Array(Number(PAGE));
        this.#anonymous.set(base, bytes);
        offset = Number(addr - base);
        // Stop at the next registered block so its bytes are used from there on.
        const next = this.#blocks.find((b) => b.hostAddr > addr && b.hostAddr < base + PAGE);
        if (next !== undefined) bytes = bytes.subarray(0, Number(next.hostAddr - base));
      }
      const n = Math.min(bytes.length - offset, length - done);
      visit(bytes, offset, done);
      done += n;
    }
  }
}
