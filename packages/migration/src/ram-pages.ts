import { Buffer } from "node:buffer";
import type { MemoryRegion } from "@memtopo/region-tree";
import { MigrationError } from "./errors.js";
import { PAGE_SIZE, RAM_PAGES_PER_SECTION, RAM_ZERO, SECTION } from "./stream/format.js";
import type { StreamWriter } from "./stream/writer.js";

const PAGE = BigInt(PAGE_SIZE);
const RECORD_HEAD = 8;

const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

/** Whether the page of 4096 bytes is all zeros (QEMU's `buffer_is_zero`). */
export function isZeroPage(page: Uint8Array): boolean {
  // A whole page is compared natively (memcmp) with a zero page: a word loop in JS took about five
  // times as long on a zero page, which is most of round 1 on a mostly empty guest.
  if (page.length === PAGE_SIZE) return Buffer.compare(page, ZERO_PAGE) === 0;
  if (page.byteOffset % 4 === 0) {
    const words = new Uint32Array(page.buffer, page.byteOffset, page.length >>> 2);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < page.length; i++) if (page[i] !== 0) return false;
  return true;
}

/** What a RAM send did. */
export interface RamSendCount {
  /** Pages sent with their data. */
  data: number;
  /** Pages sent as zero markers. */
  zero: number;
  /** Zero pages left out (the destination's are zero already). */
  skipped: number;
}

/**
 * Sends the pages of block `index` (`mr`) at `offsets` (page-aligned byte offsets in its
 * RAM block) as RAM sections: data, or a zero marker for an all-zero page; with `skipZero`
 * a zero page is not sent at all (a destination whose RAM is still fresh, a snapshot).
 */
export function sendRamPages(
  writer: StreamWriter,
  index: number,
  mr: MemoryRegion,
  offsets: Iterable<bigint>,
  options: { skipZero: boolean },
  count: RamSendCount,
): void {
  const block = mr.ramBlock!;
  // One section's payload, filled in place: the head, then records as they come.
  const payload = new Uint8Array(8 + RAM_PAGES_PER_SECTION * (RECORD_HEAD + PAGE_SIZE));
  const view = new DataView(payload.buffer);
  view.setUint32(0, index, true);
  let at = 8;
  let pages = 0;
  const flush = () => {
    if (pages === 0) return;
    view.setUint32(4, pages, true);
    writer.section(SECTION.RAM, payload.subarray(0, at));
    at = 8;
    pages = 0;
  };
  for (const offset of offsets) {
    const page = block.bytesAt(offset, PAGE_SIZE);
    const zero = isZeroPage(page);
    if (zero && options.skipZero) {
      count.skipped++;
      continue;
    }
    view.setBigUint64(at, zero ? offset | RAM_ZERO : offset, true);
    at += RECORD_HEAD;
    if (zero) {
      count.zero++;
    } else {
      payload.set(page, at);
      // A short last page is padded with zeros.
      if (page.length < PAGE_SIZE) payload.fill(0, at + page.length, at + PAGE_SIZE);
      at += PAGE_SIZE;
      count.data++;
    }
    if (++pages === RAM_PAGES_PER_SECTION) flush();
  }
  flush();
}

/** Every page offset of a block of `size` bytes. */
export function* allPages(size: bigint): Generator<bigint> {
  for (let offset = 0n; offset < size; offset += PAGE) yield offset;
}

/** One decoded page write: where, and its bytes (null for a zero page). */
export interface RamRecord {
  readonly offset: bigint;
  readonly data: Uint8Array | null;
}

/** Decodes a RAM payload against the destination's blocks, checking every record before returning any. */
export function decodeRamSection(
  payload: Uint8Array,
  blocks: readonly MemoryRegion[],
): { block: MemoryRegion; records: RamRecord[] } {
  if (payload.length < 8) throw new MigrationError("E_STREAM_RAM", "a RAM section shorter than its 8-byte head");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const index = view.getUint32(0, true);
  const pages = view.getUint32(4, true);
  const block = blocks[index];
  if (block === undefined)
    throw new MigrationError("E_STREAM_RAM", `RAM block index ${index}; the MAP has ${blocks.length} blocks`);
  const size = block.ramBlock!.size;
  const records: RamRecord[] = [];
  let at = 8;
  for (let i = 0; i < pages; i++) {
    if (payload.length - at < RECORD_HEAD)
      throw new MigrationError("E_STREAM_RAM", `RAM section for "${block.name}": record ${i} of ${pages} is cut`);
    const raw = view.getBigUint64(at, true);
    at += RECORD_HEAD;
    const zero = (raw & RAM_ZERO) !== 0n;
    const offset = raw & ~(PAGE - 1n);
    if ((raw & (PAGE - 1n) & ~RAM_ZERO) !== 0n) {
      throw new MigrationError(
        "E_STREAM_RAM",
        `RAM record 0x${raw.toString(16)} for "${block.name}" has unknown flags`,
      );
    }
    if (offset >= size) {
      throw new MigrationError(
        "E_STREAM_RAM",
        `page 0x${offset.toString(16)} is outside "${block.name}" (0x${size.toString(16)} bytes)`,
      );
    }
    if (zero) {
      records.push({ offset, data: null });
      continue;
    }
    if (payload.length - at < PAGE_SIZE)
      throw new MigrationError("E_STREAM_RAM", `RAM section for "${block.name}": page ${i} of ${pages} is cut`);
    records.push({ offset, data: payload.subarray(at, at + PAGE_SIZE) });
    at += PAGE_SIZE;
  }
  if (at !== payload.length)
    throw new MigrationError(
      "E_STREAM_RAM",
      `RAM section for "${block.name}" has ${payload.length - at} bytes after its ${pages} pages`,
    );
  return { block, records };
}

/** Writes decoded records into the block (a block's last page may be short: the record's tail is padding). */
export function storeRamRecords(block: MemoryRegion, records: readonly RamRecord[]): void {
  const ram = block.ramBlock!;
  for (const r of records) {
    const page = ram.bytesAt(r.offset, PAGE_SIZE);
    if (r.data === null) page.fill(0);
    else page.set(r.data.subarray(0, page.length));
  }
}

/**
 * Zeroes every page of the block that is not zero already (pages never touched stay
 * untouched, so host memory is not committed): a destination's RAM then matches a stream
 * that leaves zero pages out.
 */
export function zeroRamBlock(block: MemoryRegion): void {
  zeroRamRange(block, 0n, block.ramBlock!.size);
}

/**
 * Gives the host memory of [start, start + size) of the block back (QEMU's
 * `ram_block_discard_range`), so that it reads as zeros; a backing without a discard gets
 * the range zeroed instead.
 */
export function discardRamRange(block: MemoryRegion, start: bigint, size: bigint): void {
  const ram = block.ramBlock!;
  if (ram.discard !== undefined) ram.discard(start, size);
  else zeroRamRange(block, start, size);
}

/** {@link zeroRamBlock} for the pages of [start, start + size) (page aligned). */
export function zeroRamRange(block: MemoryRegion, start: bigint, size: bigint): void {
  const ram = block.ramBlock!;
  const end = start + size < ram.size ? start + size : ram.size;
  for (let offset = start; offset < end; offset += PAGE) {
    const page = ram.bytesAt(offset, PAGE_SIZE);
    if (!isZeroPage(page)) page.fill(0);
  }
}
