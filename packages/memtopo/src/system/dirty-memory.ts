import { DIRTY_LOG_CODE, DIRTY_LOG_MIGRATION, DIRTY_LOG_VGA, type MemoryRegion } from "@memtopo/region-tree";
import { MemorySystemError } from "./errors.js";

/** QEMU's TARGET_PAGE_SIZE on x86: the unit of every dirty bitmap of a RAM block. */
export const DIRTY_PAGE_SIZE = 4096;
const PAGE = BigInt(DIRTY_PAGE_SIZE);

/** One client of a block's dirty memory: DIRTY_LOG_VGA, DIRTY_LOG_CODE or DIRTY_LOG_MIGRATION. */
export type DirtyClient = typeof DIRTY_LOG_VGA | typeof DIRTY_LOG_CODE | typeof DIRTY_LOG_MIGRATION;

const CLIENTS: readonly DirtyClient[] = [DIRTY_LOG_VGA, DIRTY_LOG_CODE, DIRTY_LOG_MIGRATION];

/** The bitmaps of one RAM block, one per client, made on first use. */
interface BlockBitmaps {
  readonly pages: number;
  readonly byClient: (Uint8Array | null)[];
}

/**
 * QEMU's `ram_list.dirty_memory`, kept per RAM block instead of per `ram_addr_t`: one bit per
 * target page of the block for each client. Because a page is named by its block and its
 * offset in the block, never by a guest address or a memslot, what a slot reported stays
 * put when the map moves the block around (a PAM toggle, a BAR move, a split slot).
 */
export class DirtyMemory {
  // Weak: a block unplugged and dropped takes its bitmaps with it.
  readonly #blocks = new WeakMap<MemoryRegion, BlockBitmaps>();

  /** `cpu_physical_memory_set_dirty_range`: the pages of `[offset, offset + length)` for the clients of `mask`. */
  setRange(mr: MemoryRegion, offset: bigint, length: bigint, mask: number): void {
    if (length <= 0n || (mask & 7) === 0) return;
    const block = this.#block(mr);
    const first = Number(offset / PAGE);
    const end = Math.min(block.pages, Number((offset + length + PAGE - 1n) / PAGE));
    for (const client of CLIENTS) {
      if ((mask & client) === 0) continue;
      const bits = this.#bits(block, client);
      for (let p = first; p < end; p++) bits[p >>> 3]! |= 1 << (p & 7);
    }
  }

  /**
   * `cpu_physical_memory_set_dirty_lebitmap`: `bitmap` (bit i: page `offset / page + i`,
   * 64-bit little-endian words as KVM hands them out) is or-ed into the clients of `mask`;
   * `pageSize` is the bitmap's page (the host's), a multiple of the target page.
   */
  setLebitmap(
    mr: MemoryRegion,
    offset: bigint,
    bitmap: Uint8Array,
    pages: number,
    pageSize: number,
    mask: number,
  ): void {
    if ((mask & 7) === 0 || pages === 0) return;
    const block = this.#block(mr);
    const ratio = pageSize / DIRTY_PAGE_SIZE;
    const first = Number(offset / PAGE);
    const targets = CLIENTS.filter((c) => (mask & c) !== 0).map((c) => this.#bits(block, c));
    const aligned = ratio === 1 && (first & 7) === 0;
    const bytes = Math.ceil(pages / 8);
    for (let byte = 0; byte < bytes; byte++) {
      let bits = bitmap[byte]!;
      if (bits === 0) continue;
      if (byte === bytes - 1 && (pages & 7) !== 0) bits &= (1 << (pages & 7)) - 1;
      if (aligned && first + byte * 8 + 8 <= block.pages) {
        const at = (first >>> 3) + byte;
        for (const t of targets) t[at]! |= bits;
        continue;
      }
      for (let bit = 0; bit < 8; bit++) {
        if ((bits & (1 << bit)) === 0) continue;
        const start = first + (byte * 8 + bit) * ratio;
        const end = Math.min(block.pages, start + ratio);
        for (let p = start; p < end; p++) for (const t of targets) t[p >>> 3]! |= 1 << (p & 7);
      }
    }
  }

  /** `cpu_physical_memory_get_dirty`: whether any page of `[offset, offset + length)` is dirty for `client`. */
  get(mr: MemoryRegion, offset: bigint, length: bigint, client: DirtyClient): boolean {
    const block = this.#blocks.get(mr);
    const bits = block?.byClient[CLIENTS.indexOf(client)];
    if (block === undefined || bits == null || length <= 0n) return false;
    const first = Number(offset / PAGE);
    const end = Math.min(block.pages, Number((offset + length + PAGE - 1n) / PAGE));
    for (let p = first; p < end; p++) if ((bits[p >>> 3]! & (1 << (p & 7))) !== 0) return true;
    return false;
  }

  /**
   * The client's whole bitmap of the block (bit i: page i of the block), and the block's
   * bitmap zeroed: `cpu_physical_memory_sync_dirty_bitmap` over the whole block.
   */
  take(mr: MemoryRegion, client: DirtyClient): Uint8Array {
    const block = this.#block(mr);
    const i = CLIENTS.indexOf(client);
    const bits = block.byClient[i];
    block.byClient[i] = null;
    return bits ?? new Uint8Array(Math.ceil(block.pages / 8));
  }

  #block(mr: MemoryRegion): BlockBitmaps {
    let block = this.#blocks.get(mr);
    if (block === undefined) {
      const ram = mr.ramBlock;
      if (ram === null) throw new MemorySystemError("E_NOT_RAM", `${mr} has no RAM block to keep dirty pages of`);
      const pages = Number((ram.size + PAGE - 1n) / PAGE);
      block = { pages, byClient: [null, null, null] };
      this.#blocks.set(mr, block);
    }
    return block;
  }

  #bits(block: BlockBitmaps, client: DirtyClient): Uint8Array {
    const i = CLIENTS.indexOf(client);
    let bits = block.byClient[i];
    if (bits == null) {
      bits = new Uint8Array(Math.ceil(block.pages / 8));
      block.byClient[i] = bits;
    }
    return bits;
  }
}

/** Byte offsets in the block of the pages set in a {@link DirtyMemory.take} bitmap, ascending. */
export function dirtyPageOffsets(bitmap: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let byte = 0; byte < bitmap.length; byte++) {
    const bits = bitmap[byte]!;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) if ((bits & (1 << bit)) !== 0) out.push(BigInt(byte * 8 + bit) * PAGE);
  }
  return out;
}
