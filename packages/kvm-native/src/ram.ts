import { KvmError } from "@memtopo/kvm";
import { MemtopoError, type RamAllocator, type RamBacking } from "@memtopo/region-tree";
import type { NativeBinding, NativeRamBlock } from "./binding.js";
import { toKvmError } from "./errors.js";
import { bindingOrReason } from "./probe.js";

/**
 * A guest-RAM allocator that needs no VM: its blocks can back memslots of any
 * NativeKvm in this process, so a memory map can be built before the VM exists.
 * Throws a KvmError (code = the probe reason) when the addon cannot load.
 */
export function nativeRamAllocator(options: { readonly nativeBinding?: NativeBinding } = {}): NativeRamAllocator {
  const binding = bindingOrReason(options.nativeBinding);
  if (!("layout" in binding)) throw new KvmError(binding.reason, "nativeRamAllocator", binding.detail);
  return new NativeRamAllocator(binding);
}

/**
 * Guest RAM in memfd mappings owned by the addon. `bytes()` is a zero-copy view
 * of the mapping (an external ArrayBuffer), and `hostAddr` is the real address a
 * memslot's userspace_addr points into. Releasing a block detaches its view at
 * once; the mapping itself goes only when no memslot uses it any more.
 */
export class NativeRamAllocator implements RamAllocator {
  readonly #binding: NativeBinding;
  // Strong references: a block a memslot may use must not depend on the caller
  // keeping it reachable (tooling.md pitfall 1).
  readonly #blocks = new Set<NativeRamBacking>();

  constructor(binding: NativeBinding) {
    this.#binding = binding;
  }

  allocate(name: string, size: bigint): RamBacking {
    if (typeof name !== "string") throw new MemtopoError("E_RAM_ARG", "RAM block name must be a string");
    if (typeof size !== "bigint" || size <= 0n) {
      const got = typeof size === "bigint" ? `${size}` : typeof size;
      throw new MemtopoError("E_RAM_ARG", `RAM block size must be a positive bigint, got ${got}`);
    }
    let block: NativeRamBlock;
    try {
      // The memfd name is only a label (memfd_create takes at most 249 bytes, no NUL):
      // 60 UTF-16 units are at most 180 UTF-8 bytes.
      block = new this.#binding.RamBlock(name.replaceAll("\0", "").slice(0, 60), size);
    } catch (error) {
      throw new MemtopoError("E_RAM_ALLOC", `cannot allocate ${size} bytes of guest RAM for "${name}"`, {
        cause: toKvmError(error, "allocate"),
      });
    }
    const backing = new NativeRamBacking(block, size, () => this.#blocks.delete(backing));
    this.#blocks.add(backing);
    return backing;
  }

  /** Releases every block this allocator handed out (the VM's close does this). */
  releaseAll(): void {
    for (const block of [...this.#blocks]) block.release();
  }

  /** Blocks handed out and not yet released. */
  get size(): number {
    return this.#blocks.size;
  }
}

class NativeRamBacking implements RamBacking {
  readonly hostAddr: bigint;
  readonly size: bigint;
  #block: NativeRamBlock | null;
  #bytes: Uint8Array | null = null;
  readonly #onRelease: () => void;

  constructor(block: NativeRamBlock, size: bigint, onRelease: () => void) {
    this.#block = block;
    this.hostAddr = block.hostAddr();
    this.size = size;
    this.#onRelease = onRelease;
  }

  bytes(): Uint8Array {
    if (this.#block === null) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
    if (this.#bytes === null) {
      try {
        this.#bytes = new Uint8Array(this.#block.buffer());
      } catch (error) {
        throw new MemtopoError("E_RAM_TOO_LARGE", `cannot expose ${this.size} bytes of RAM as an ArrayBuffer`, {
          cause: toKvmError(error, "bytes"),
        });
      }
    }
    return this.#bytes;
  }

  release(): void {
    if (this.#block === null) return;
    this.#block.release();
    this.#block = null;
    this.#bytes = null;
    this.#onRelease();
  }
}
