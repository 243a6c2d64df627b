// The memtopo migration stream, version 1 (docs/migration-stream.md is the specification):
// a 16-byte header, then sections, each with its own CRC-32, the last one END.

/** "MTMIGRAT": the first 8 bytes of every stream. */
export const STREAM_MAGIC = new Uint8Array([0x4d, 0x54, 0x4d, 0x49, 0x47, 0x52, 0x41, 0x54]);
export const STREAM_VERSION = 1;
export const HEADER_SIZE = 16;
/** type (u8), three zero bytes, payload length (u32 LE). */
export const SECTION_HEADER_SIZE = 8;
export const SECTION_CRC_SIZE = 4;
/** The largest payload a reader accepts: a bound on what a hostile length can make it buffer. */
export const MAX_SECTION_PAYLOAD = 64 << 20;

/** Section types, in the order a stream may carry them (RAM and ROUND repeat). */
export const SECTION = {
  /** The RAM blocks (name, size) the RAM sections index, and the target page size. */
  MAP: 0x01,
  /** Pages of one RAM block: data, or a zero-page marker. */
  RAM: 0x02,
  /** The end of a pre-copy round: its number and how many pages it sent. */
  ROUND: 0x03,
  /** One device model's state, with its id and version. */
  DEVICE: 0x04,
  /** One vCPU's state. */
  VCPU: 0x05,
  /** The source's flat views when it stopped, which the destination's must equal after loading. */
  VIEWS: 0x06,
  /** How many sections came before it: a stream cut at a section boundary is told from a whole one. */
  END: 0xff,
} as const;
export type SectionType = (typeof SECTION)[keyof typeof SECTION];

export const SECTION_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SECTION).map(([name, type]) => [type, name]),
);

/** The target page the RAM sections move (x86's TARGET_PAGE_SIZE). */
export const PAGE_SIZE = 4096;
/** Flag in a RAM record's offset (whose low 12 bits are otherwise zero): the page is all zeros, no data follows. */
export const RAM_ZERO = 1n;
/** Pages per RAM section the writer emits (1 MiB of data at most). */
export const RAM_PAGES_PER_SECTION = 256;
