import { ERRNO, KvmError } from "@memtopo/kvm";
import {
  checkRamDiscard,
  MemtopoError,
  RAM_VIEW_WHOLE,
  type RamAllocator,
  type RamBacking,
  ramViewLength,
} from "@memtopo/region-tree";
import type { NativeBinding, NativeRamBlock, NativeVm } from "./binding.js";
import { native, toKvmError } from "./errors.js";
import { bindingOrReason } from "./probe.js";

/**
 * A guest-RAM allocator that needs no VM, so that a memory map can be built before the
 * VM exists. Its blocks back no memslot until a VM adopts the allocator
 * (`kvm.adoptRam(allocator)`): from then on they, and the blocks it makes later, are
 * that VM's RAM and no other VM's. Throws a KvmError (code = the probe reason) when the
 * addon cannot load.
 */
export function nativeRamAllocator(options: { readonly nativeBinding?: NativeBinding } = {}): NativeRamAllocator {
  const binding = bindingOrReason(options.nativeBinding);
  if (!("layout" in binding)) throw new KvmError(binding.reason, "nativeRamAllocator", binding.detail);
  return new NativeRamAllocator(binding);
}

/** Node's limit for one ArrayBuffer: a larger block has no whole view. */
const MAX_WHOLE_VIEW = 2n ** 32n;
/** The addon's windows: window i covers [i * step, i * step + 2 * step), so they overlap by a step. */
const WINDOW_STEP = BigInt(RAM_VIEW_WHOLE);

/** Who owns an allocator's blocks: a VM, which adopts each block as it is made. */
interface RamOwner {
  readonly vm: NativeVm;
}

/** Attaches an allocator to a VM (NativeKvm's side of `adoptRam`); not exported from the package. */
export let attachRamAllocator: (allocator: NativeRamAllocator, owner: RamOwner) => void;

/**
 * Guest RAM in memfd mappings owned by the addon. `bytes()` is a zero-copy view
 * of the mapping (an external ArrayBuffer), `bytesAt()` a view of a part (any block
 * size), and `hostAddr` is the real address a memslot's userspace_addr points into.
 * Releasing a block detaches its views and unmaps it at once, unless a memslot still
 * uses it (then it goes with the last such memslot).
 */
export class NativeRamAllocator implements RamAllocator {
  readonly #binding: NativeBinding;
  // Strong references: a block a memslot may use must not depend on the caller
  // keeping it reachable (tooling.md pitfall 1).
  readonly #blocks = new Set<NativeRamBacking>();
  #owner: RamOwner | null = null;

  static {
    attachRamAllocator = (allocator, owner) => allocator.#attach(owner);
  }

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
      if (this.#owner !== null) this.#owner.vm.adoptRam(block);
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

  #attach(owner: RamOwner): void {
    if (this.#owner !== null) {
      if (this.#owner.vm === owner.vm) return;
      throw new KvmError(
        "E_RAM_FOREIGN",
        "adoptRam",
        "this allocator's RAM already belongs to another VM",
        ERRNO.EPERM,
      );
    }
    // Blocks of an unattached allocator belong to no VM yet, so adopting each cannot fail
    // for ownership; a released one is no longer in the set.
    for (const backing of this.#blocks) backing.adoptBy(owner.vm);
    this.#owner = owner;
  }
}

class NativeRamBacking implements RamBacking {
  readonly hostAddr: bigint;
  readonly size: bigint;
  #block: NativeRamBlock | null;
  #bytes: Uint8Array | null = null;
  /** Window views of a block over 4 GiB, by window index (made on first use). */
  readonly #windows = new Map<number, Uint8Array>();
  readonly #onRelease: () => void;

  constructor(block: NativeRamBlock, size: bigint, onRelease: () => void) {
    this.#block = block;
    this.hostAddr = block.hostAddr();
    this.size = size;
    this.#onRelease = onRelease;
  }

  bytes(): Uint8Array {
    const block = this.#live();
    if (this.#bytes === null) {
      if (this.size > MAX_WHOLE_VIEW) {
        throw new MemtopoError(
          "E_RAM_TOO_LARGE",
          `a block of ${this.size} bytes has no single view (Node caps an ArrayBuffer at 2^32 bytes): use bytesAt()`,
        );
      }
      try {
        this.#bytes = new Uint8Array(block.buffer());
      } catch (error) {
        throw new MemtopoError("E_RAM_TOO_LARGE", `cannot expose ${this.size} bytes of RAM as an ArrayBuffer`, {
          cause: toKvmError(error, "bytes"),
        });
      }
    }
    return this.#bytes;
  }

  bytesAt(offset: bigint, length: number): Uint8Array {
    const block = this.#live();
    const n = ramViewLength(this.size, offset, length);
    if (this.size <= MAX_WHOLE_VIEW) {
      const start = Number(offset);
      return this.bytes().subarray(start, start + n);
    }
    const index = Number(offset / WINDOW_STEP);
    let window = this.#windows.get(index);
    if (window === undefined) {
      try {
        window = new Uint8Array(block.window(index));
      } catch (error) {
        throw new MemtopoError("E_RAM_TOO_LARGE", `cannot view RAM window ${index} as an ArrayBuffer`, {
          cause: toKvmError(error, "bytesAt"),
        });
      }
      this.#windows.set(index, window);
    }
    const start = Number(offset - BigInt(index) * WINDOW_STEP);
    return window.subarray(start, Math.min(start + n, window.length));
  }

  /**
   * Punches a hole in the memfd and drops the pages from the mapping (the addon's
   * `discard`): the range reads as zeros, in the guest too, and leaves the process's RSS.
   * A last partial page is discarded whole (the mapping is page-rounded).
   */
  discard(offset: bigint, length: bigint): void {
    const block = this.#live();
    checkRamDiscard(this.size, offset, length);
    const page = 0x1000n;
    const rounded = ((offset + length + page - 1n) / page) * page - offset;
    try {
      block.discard(offset, rounded);
    } catch (error) {
      throw new MemtopoError(
        "E_RAM_DISCARD",
        `cannot discard 0x${rounded.toString(16)} bytes at 0x${offset.toString(16)}`,
        {
          cause: toKvmError(error, "discard"),
        },
      );
    }
  }

  /** Makes the block RAM of `vm` (see NativeRamAllocator's attach). */
  adoptBy(vm: NativeVm): void {
    const block = this.#live();
    native("adoptRam", () => vm.adoptRam(block));
  }

  release(): void {
    if (this.#block === null) return;
    this.#block.release();
    this.#block = null;
    this.#bytes = null;
    this.#windows.clear();
    this.#onRelease();
  }

  #live(): NativeRamBlock {
    if (this.#block === null) throw new MemtopoError("E_RAM_RELEASED", "RAM block was released");
    return this.#block;
  }
}
