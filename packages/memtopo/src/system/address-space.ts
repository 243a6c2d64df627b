import type { FlatView } from "@memtopo/flatview";
import type { CollectedIoeventfds } from "@memtopo/ioeventfd";
import {
  describeValue,
  type IoeventfdRecord,
  type MemoryRegion,
  type MemTxAttrs,
  type MemTxResult,
  toDouble,
} from "@memtopo/region-tree";
import { MemorySystemError } from "./errors.js";
import { flatviewAccess } from "./flatview-access.js";
import type { AccessEnv } from "./region-access.js";
import { SectionCache } from "./section-cache.js";

const ADDR_LIMIT = 1n << 64n;

/** The mutable part of an address space, shared with the MemorySystem that owns it. */
export interface AddressSpaceState {
  root: MemoryRegion | null;
  currentMap: FlatView;
  ioeventfds: CollectedIoeventfds;
  destroyed: boolean;
  readonly env: AccessEnv;
  /** Creation order, to visit a few spaces in QEMU's order without walking them all. */
  readonly order: number;
}

/**
 * QEMU's AddressSpace: a name, a root region, the current FlatView and the collected
 * ioeventfd list, plus the access path (`address_space_read`/`write`). Created by
 * {@link MemorySystem.createAddressSpace}; views change only at topology commits.
 */
export class AddressSpace {
  readonly name: string;
  readonly #state: AddressSpaceState;
  /** Made at the first access: most of a machine's spaces (bus masters) are never accessed. */
  #sections: SectionCache | null = null;

  /** The last address checked, and it as a double: a guest's exits mostly go to one address after another. */
  #lastAddr = 0n;
  #lastDouble = 0;

  #cache(): SectionCache {
    if (this.#sections === null) this.#sections = new SectionCache();
    return this.#sections;
  }

  /** @internal Use `MemorySystem.createAddressSpace`. */
  constructor(name: string, state: AddressSpaceState) {
    this.name = name;
    this.#state = state;
  }

  get root(): MemoryRegion | null {
    return this.#state.root;
  }

  /** The view guests see now; replaced (never mutated) by topology commits. */
  get currentMap(): FlatView {
    return this.#state.currentMap;
  }

  /** The space's ioeventfds in address-space addresses, in collection order (`address_space_update_ioeventfds`). */
  get ioeventfds(): readonly IoeventfdRecord[] {
    return this.#state.ioeventfds.records;
  }

  get destroyed(): boolean {
    return this.#state.destroyed;
  }

  /**
   * `address_space_read`: fills `data` from `addr` on through the current view. RAM is
   * copied directly; MMIO goes through the device's ops with QEMU's access rules. Gaps read
   * 0 with MEMTX_DECODE_ERROR. Returns the OR of the steps' results.
   */
  read(addr: bigint, data: Uint8Array, attrs?: MemTxAttrs): MemTxResult {
    const a = this.#check(addr, data);
    return flatviewAccess(this.#state.currentMap, addr, data, false, attrs, this.#state.env, this.#cache(), a);
  }

  /** `address_space_write`: writes `data` at `addr` on; writes to ROM and gaps give MEMTX_DECODE_ERROR. */
  write(addr: bigint, data: Uint8Array, attrs?: MemTxAttrs): MemTxResult {
    const a = this.#check(addr, data);
    return flatviewAccess(this.#state.currentMap, addr, data, true, attrs, this.#state.env, this.#cache(), a);
  }

  /** Reads `size` (1..8) bytes at `addr` and returns them as a value in the target's byte order. */
  readValue(addr: bigint, size: number, attrs?: MemTxAttrs): { value: bigint; result: MemTxResult } {
    checkValueSize(size);
    const data = new Uint8Array(size);
    const result = this.read(addr, data, attrs);
    let value = 0n;
    for (let i = 0; i < size; i++) {
      const byte = BigInt(data[this.#state.env.targetBigEndian ? i : size - 1 - i]!);
      value = (value << 8n) | byte;
    }
    return { value, result };
  }

  /** Writes the low `size` (1..8) bytes of `value`, taken in the target's byte order, at `addr`. */
  writeValue(addr: bigint, size: number, value: bigint, attrs?: MemTxAttrs): MemTxResult {
    checkValueSize(size);
    if (typeof value !== "bigint") {
      throw new MemorySystemError("E_INVALID_ARGUMENT", `value must be a bigint, got ${typeof value}`);
    }
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const byte = Number((value >> BigInt(8 * i)) & 0xffn);
      data[this.#state.env.targetBigEndian ? size - 1 - i : i] = byte;
    }
    return this.write(addr, data, attrs);
  }

  /** Checks an access's arguments; returns `addr` as a double. */
  #check(addr: bigint, data: Uint8Array): number {
    if (this.#state.destroyed) {
      throw new MemorySystemError("E_ADDRESS_SPACE_DESTROYED", `address space "${this.name}" was destroyed`);
    }
    // Anything but the last (checked) bigint is checked: a number equal to it is not strictly equal.
    if (addr !== this.#lastAddr) {
      if (typeof addr !== "bigint" || addr < 0n || addr >= ADDR_LIMIT) {
        throw new MemorySystemError(
          "E_INVALID_ADDRESS",
          `address must be a bigint in [0, 2^64), got ${describeValue(addr)}`,
        );
      }
      this.#lastAddr = addr;
      this.#lastDouble = toDouble(addr);
    }
    if (!(data instanceof Uint8Array)) throw new MemorySystemError("E_INVALID_ARGUMENT", "data must be a Uint8Array");
    return this.#lastDouble;
  }

  toString(): string {
    return `AddressSpace(${JSON.stringify(this.name)})`;
  }
}

function checkValueSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > 8) {
    throw new MemorySystemError("E_INVALID_SIZE", `access size must be an integer in 1..8, got ${describeValue(size)}`);
  }
}
